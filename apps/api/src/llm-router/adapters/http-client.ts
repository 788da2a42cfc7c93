import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { failureForNetworkError, failureForStatus, ProviderCallError } from '../router.errors';

const httpAgent = new http.Agent({ keepAlive: true, keepAliveMsecs: 10_000, maxSockets: 512, maxFreeSockets: 256 });
const httpsAgent = new https.Agent({ keepAlive: true, keepAliveMsecs: 10_000, maxSockets: 512, maxFreeSockets: 256 });

export interface HttpCall {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Aborts the call; the caller combines its own signal with the attempt timeout. */
  signal: AbortSignal;
  /** Set by the caller when `signal` fired because of the attempt timeout (so the error is classified `timeout`). */
  timedOut: () => boolean;
}

/** A response whose status is 2xx; the body has not been read yet. */
export interface OpenResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: IncomingMessage;
}

/**
 * Sends a request over a keep-alive agent and resolves once the response headers arrived with a 2xx status.
 * @throws ProviderCallError: network failures (refused, reset, timeout, aborted) and non-2xx statuses
 *   (429 with Retry-After, 5xx, 401/403, other 4xx), classified for the retry policy.
 */
export function openRequest(call: HttpCall): Promise<OpenResponse> {
  return new Promise<OpenResponse>((resolvePromise, reject) => {
    let u: URL;
    try {
      u = new URL(call.url);
    } catch {
      reject(new ProviderCallError('http_4xx', `invalid URL ${call.url}`));
      return;
    }
    const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
    const headers: Record<string, string | number> = { accept: 'application/json, text/event-stream, application/x-ndjson', ...(call.headers ?? {}) };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      { method: call.method, headers, agent: u.protocol === 'https:' ? httpsAgent : httpAgent, signal: call.signal },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolvePromise({ status, headers: res.headers, body: res });
          return;
        }
        readAll(res, 64 * 1024)
          .then((text) => reject(failureForStatus(status, text, headerValue(res.headers['retry-after']))))
          .catch((err) => reject(failureForNetworkError(err, call.timedOut())));
      },
    );
    req.on('error', (err) => reject(failureForNetworkError(err, call.timedOut())));
    if (payload) req.end(payload);
    else req.end();
  });
}

/** Reads a whole body as UTF-8 (at most `max` bytes are kept). */
export function readAll(res: IncomingMessage, max = 16 * 1024 * 1024): Promise<string> {
  return new Promise((resolveText, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < max) chunks.push(c);
      size += c.length;
    });
    res.on('end', () => resolveText(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
  });
}

/** Parses a JSON body. @throws ProviderCallError `bad_response` for malformed JSON. */
export function parseJsonBody<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ProviderCallError('bad_response', `malformed JSON from ${what}`);
  }
}

/**
 * Every line of a byte stream (`\n` or `\r\n` endings, empty lines included), plus a final unterminated line when
 * `partialLast`. Decodes UTF-8 across chunk boundaries, so a character split between two network chunks is never
 * mangled.
 */
async function* rawLines(res: IncomingMessage, partialLast: boolean): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of res as AsyncIterable<Buffer>) {
    buf += decoder.write(chunk);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      yield buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
    }
  }
  buf += decoder.end();
  if (partialLast && buf !== '') yield buf;
}

/** Splits a byte stream into non-empty lines (NDJSON). */
export async function* lines(res: IncomingMessage): AsyncGenerator<string> {
  for await (const line of rawLines(res, true)) if (line.trim() !== '') yield line;
}

/** A server-sent event (`event:` name, joined `data:` lines). */
export interface SseEvent {
  event: string | null;
  data: string;
}

/**
 * Parses a text/event-stream body into events (WHATWG SSE: a blank line ends an event, `:` lines are comments); a
 * final line cut off mid-way is ignored.
 */
export async function* sseEvents(res: IncomingMessage): AsyncGenerator<SseEvent> {
  let event: string | null = null;
  let data: string[] = [];
  for await (const line of rawLines(res, false)) {
    if (line === '') {
      if (data.length > 0 || event) yield { event, data: data.join('\n') };
      event = null;
      data = [];
    } else if (line.startsWith('data:')) {
      data.push(line.slice(5).replace(/^ /, ''));
    } else if (line.startsWith('event:')) {
      event = line.slice(6).trim();
    }
  }
  if (data.length > 0) yield { event, data: data.join('\n') };
}

function headerValue(v: string | string[] | undefined): string | null {
  if (Array.isArray(v)) return v[0] ?? null;
  return v ?? null;
}

/** Wraps a body iterator so a network error mid-body becomes a classified ProviderCallError. */
export async function* guardStream<T>(it: AsyncIterable<T>, timedOut: () => boolean): AsyncGenerator<T> {
  try {
    for await (const x of it) yield x;
  } catch (err) {
    if (err instanceof ProviderCallError) throw err;
    const e = failureForNetworkError(err, timedOut());
    if (e.kind === 'connection_reset') throw new ProviderCallError('stream_interrupted', `stream cut: ${e.message}`);
    throw e;
  }
}
