import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as decoded from an OTLP/HTTP JSON export request (ids hex, times ms, attributes flattened). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  /** Attributes of the resource the span came with (e.g. service.name). */
  resource: Record<string, string | number | boolean>;
  scope: string;
}

/** A loopback OTLP/HTTP collector for tests: accepts `POST /v1/traces` (JSON encoding) and decodes every span. */
export interface FakeOtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:43123` (what OTEL_EXPORTER_OTLP_ENDPOINT is set to). */
  url: string;
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /** Export requests received (path and content type). */
  requests(): { path: string; contentType: string }[];
  /** Answer the next `n` export requests with this status (fault injection). */
  failNext(n: number, status: number): void;
  stop(): Promise<void>;
}

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number; arrayValue?: { values?: AnyValue[] } };
type KeyValue = { key: string; value: AnyValue };

function decodeValue(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return JSON.stringify(v);
}

function attrs(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, decodeValue(kv.value)]));
}

/** OTLP/JSON times are unsigned 64-bit nanoseconds (a decimal string or a number): to epoch ms. */
function nanosToMs(v: unknown): number {
  if (typeof v === 'string') return Number(BigInt(v) / 1_000_000n);
  if (typeof v === 'number') return Math.floor(v / 1e6);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number };
    return Number(((BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)) / 1_000_000n);
  }
  return NaN;
}

/** Starts the fake collector on a random loopback port. */
export async function startFakeOtlpReceiver(): Promise<FakeOtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: { path: string; contentType: string }[] = [];
  let failures: { n: number; status: number } = { n: 0, status: 503 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = String(req.headers['content-type'] ?? '');
      requests.push({ path: req.url ?? '', contentType });
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (failures.n > 0) {
        failures = { ...failures, n: failures.n - 1 };
        res.writeHead(failures.status, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      if (!contentType.includes('application/json')) {
        res.writeHead(415).end();
        return;
      }
      type Body = {
        resourceSpans?: {
          resource?: { attributes?: KeyValue[] };
          scopeSpans?: {
            scope?: { name?: string };
            spans?: {
              traceId: string;
              spanId: string;
              parentSpanId?: string;
              name: string;
              kind: number;
              startTimeUnixNano: unknown;
              endTimeUnixNano: unknown;
              attributes?: KeyValue[];
              status?: { code?: number; message?: string };
            }[];
          }[];
        }[];
      };
      let body: Body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
      } catch {
        res.writeHead(400).end();
        return;
      }
      for (const rs of body.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              startMs: nanosToMs(s.startTimeUnixNano),
              endMs: nanosToMs(s.endTimeUnixNano),
              attributes: attrs(s.attributes),
              status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
              resource,
              scope: ss.scope?.name ?? '',
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...spans],
    requests: () => [...requests],
    failNext: (n, status) => {
      failures = { n, status };
    },
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
