import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Fault of the next embedding request(s): an HTTP status with an error body, no answer (`hang`), a socket reset,
 * a 200 that is not JSON, or vectors of the wrong dimension (a misconfigured model).
 */
export type EmbedFault =
  | { kind: 'status'; status: number; message?: string }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'malformedJson' }
  | { kind: 'wrongDimension'; dimension: number };

export interface EmbedRequest {
  path: string;
  model: string;
  inputs: string[];
  authorization: string | undefined;
}

/** Deterministic test vector: word-hash buckets (so similar texts are similar), not normalised (the client does it). */
export function fakeVector(text: string, dim: number): number[] {
  const v = new Array<number>(dim).fill(0);
  for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619) >>> 0;
    v[h % dim] += 1;
  }
  v[dim - 1] += 0.01; // never the zero vector
  return v;
}

/**
 * A fake embedding server on loopback speaking Ollama `POST /api/embed` (`{ model, input }` ->
 * `{ model, embeddings }`) and OpenAI `POST /v1/embeddings` (`{ model, input }` -> `{ object: 'list', data: [{ object:
 * 'embedding', index, embedding }], model, usage }`, data in reverse order to check clients sort by index).
 * `fail(fault, times)` queues faults, `setFault` sets one for every request; `stop()`/`start()` simulate an outage.
 */
export class FakeEmbeddingServer {
  readonly requests: EmbedRequest[] = [];
  private queued: EmbedFault[] = [];
  private sticky: EmbedFault | null = null;
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(readonly dimension = 384) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every text embedded successfully, in order. */
  get embeddedInputs(): string[] {
    return this.requests.flatMap((r) => r.inputs);
  }

  fail(fault: EmbedFault, times = 1): void {
    for (let i = 0; i < times; i++) this.queued.push(fault);
  }

  setFault(fault: EmbedFault | null): void {
    this.sticky = fault;
  }

  async start(port = this.port): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '';
    if (req.method !== 'POST' || (path !== '/api/embed' && path !== '/v1/embeddings')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    let body: { model?: string; input?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      res.writeHead(400).end(JSON.stringify({ error: 'bad json' }));
      return;
    }
    const inputs = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input ?? '')];
    const fault = this.queued.shift() ?? this.sticky;
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: fault.message ?? `fault ${fault.status}` }));
      return;
    }
    if (fault?.kind === 'malformedJson') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"embeddings": [[0.1,');
      return;
    }
    const dim = fault?.kind === 'wrongDimension' ? fault.dimension : this.dimension;
    const vectors = inputs.map((t) => fakeVector(t, dim));
    this.requests.push({ path, model: String(body.model ?? ''), inputs, authorization: req.headers.authorization });
    const payload =
      path === '/api/embed'
        ? { model: body.model, embeddings: vectors, total_duration: 1000, load_duration: 10, prompt_eval_count: inputs.length }
        : {
            object: 'list',
            data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })).reverse(),
            model: body.model,
            usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
          };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
  }
}

export async function startFakeEmbedder(dimension = 384): Promise<FakeEmbeddingServer> {
  const f = new FakeEmbeddingServer(dimension);
  await f.start(0);
  return f;
}
