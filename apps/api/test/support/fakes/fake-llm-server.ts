import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Which real wire protocol the fake speaks. */
export type FakeKind = 'ollama' | 'openai' | 'anthropic';

/**
 * Fault injected into the next chat request(s):
 * - `status`: that HTTP status with an error body (and `Retry-After` for 429 when given, seconds);
 * - `hang`: never answers (until the server stops);
 * - `slowFirstByte`: waits `delayMs` before the status line, then answers normally;
 * - `cutStream`: streams `afterChunks` pieces then destroys the socket (non-stream: half a JSON body then destroy);
 * - `endWithoutDone`: streams `afterChunks` pieces then ends the response cleanly without the protocol's terminator;
 * - `malformedJson`: 200 with a body that is not JSON (stream: a garbage line/event);
 * - `errorBody`: 200 whose body is the protocol's error object;
 * - `reset`: destroys the socket without answering.
 */
export type Fault =
  | { kind: 'status'; status: number; retryAfterS?: number; message?: string }
  | { kind: 'hang' }
  | { kind: 'slowFirstByte'; delayMs: number }
  | { kind: 'cutStream'; afterChunks: number }
  | { kind: 'endWithoutDone'; afterChunks: number }
  | { kind: 'malformedJson' }
  | { kind: 'errorBody'; message?: string }
  | { kind: 'reset' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | null;
  at: number;
}

interface ChatBody {
  model?: string;
  messages?: { role: string; content: string }[];
  stream?: boolean;
  max_tokens?: number;
  system?: string;
  options?: { num_predict?: number };
  stream_options?: { include_usage?: boolean };
}

/**
 * A fake LLM upstream speaking the real wire formats on loopback, driven by tests and the benchmark:
 * Ollama (`POST /api/chat` JSON or NDJSON stream, `GET /api/tags`), OpenAI-compatible (`POST /v1/chat/completions`
 * JSON or SSE with `[DONE]`, `GET /v1/models`), Anthropic (`POST /v1/messages` JSON or SSE events, `GET /v1/models`).
 * The reply is `reply` (default "Hello from <name>"), streamed word by word; `max_tokens` cuts it (finish `length`).
 * Faults are queued with `fail()` (next N chat requests) or set for every request with `setFault()`.
 * `stop()` + `start()` on the same port simulate connection refused and recovery.
 */
export class FakeLlmServer {
  reply: string;
  /** Delay before answering each chat request (ms). */
  latencyMs = 0;
  /** Delay between streamed pieces (ms). */
  chunkDelayMs = 0;
  /**
   * Ollama only: the models pulled on this server (`/api/tags` lists them as `name:latest`), and a chat for any other
   * model answers like Ollama: 404 `{"error":"model \"x\" not found, try pulling it first"}`. null = any model.
   */
  pulledModels: string[] | null = null;
  /** Every request received (chat, tags, models). Disable with `record = false` for benchmarks. */
  readonly requests: RecordedRequest[] = [];
  record = true;
  /** Chat requests received (counted even when not recorded). */
  chatCount = 0;
  private readonly queue: Fault[] = [];
  private persistent: Fault | null = null;
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private portValue = 0;

  constructor(
    readonly kind: FakeKind,
    readonly name = `fake-${kind}`,
  ) {
    this.reply = `Hello from ${name}`;
  }

  get port(): number {
    return this.portValue;
  }

  /** Base URL as configured in providers.yaml (`/v1` included for openai). */
  get url(): string {
    const base = `http://127.0.0.1:${this.portValue}`;
    return this.kind === 'openai' ? `${base}/v1` : base;
  }

  /** Listens on `port` (0 = random, or the previous port after a stop). */
  async start(port = this.portValue): Promise<this> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.portValue = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Stops listening and drops every connection (hanging requests included): new connections are refused. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Queues `fault` for the next `times` chat requests. */
  fail(fault: Fault, times = 1): this {
    for (let i = 0; i < times; i++) this.queue.push(fault);
    return this;
  }

  /** Applies `fault` to every chat request until cleared with `setFault(null)`. */
  setFault(fault: Fault | null): this {
    this.persistent = fault;
    return this;
  }

  /** Clears faults and recorded requests. */
  reset(): this {
    this.queue.length = 0;
    this.persistent = null;
    this.requests.length = 0;
    this.chatCount = 0;
    this.latencyMs = 0;
    this.chunkDelayMs = 0;
    this.reply = `Hello from ${this.name}`;
    this.pulledModels = null;
    return this;
  }

  chatRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    let body: Record<string, unknown> | null = null;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
    } catch {
      body = null;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (this.record) this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body, at: Date.now() });
    if (req.method === 'GET' && ((this.kind === 'ollama' && path === '/api/tags') || (this.kind !== 'ollama' && path === '/v1/models'))) {
      return this.json(res, 200, this.modelList());
    }
    const chatPath = this.kind === 'ollama' ? '/api/chat' : this.kind === 'openai' ? '/v1/chat/completions' : '/v1/messages';
    if (req.method !== 'POST' || path !== chatPath) return this.json(res, 404, { error: `not found: ${req.method} ${path}` });
    this.chatCount++;
    if (!body || !Array.isArray((body as ChatBody).messages)) return this.json(res, 400, this.errorObject('messages is required'));
    const model = String((body as ChatBody).model ?? '');
    if (this.kind === 'ollama' && this.pulledModels && !this.pulledModels.some((m) => m === model || `${m}:latest` === model || m === `${model}:latest`)) {
      return this.json(res, 404, { error: `model "${model}" not found, try pulling it first` });
    }
    const fault = this.queue.shift() ?? this.persistent;
    if (this.latencyMs > 0) await delay(this.latencyMs);
    await this.chat(body as ChatBody, res, fault);
  }

  private modelList(): unknown {
    if (this.kind === 'ollama') {
      const names = (this.pulledModels ?? ['llama3.2']).map((m) => (m.includes(':') ? m : `${m}:latest`));
      return { models: names.map((n) => ({ name: n, model: n, size: 1 })) };
    }
    if (this.kind === 'openai') return { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1, owned_by: 'fake' }] };
    return { data: [{ type: 'model', id: 'claude-3-5-haiku-latest', display_name: 'Claude' }], has_more: false };
  }

  private errorObject(message: string): unknown {
    if (this.kind === 'ollama') return { error: message };
    if (this.kind === 'openai') return { error: { message, type: 'server_error', code: null } };
    return { type: 'error', error: { type: 'api_error', message } };
  }

  private json(res: ServerResponse, status: number, obj: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(obj);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private pieces(b: ChatBody): { pieces: string[]; finish: 'stop' | 'length'; promptTokens: number } {
    const words = this.reply.split(/(?<= )/);
    const max = this.kind === 'ollama' ? b.options?.num_predict : b.max_tokens;
    const cut = typeof max === 'number' && max > 0 && max < words.length;
    const promptText = (b.messages ?? []).map((m) => m.content).join(' ') + (b.system ? ` ${b.system}` : '');
    return { pieces: cut ? words.slice(0, max) : words, finish: cut ? 'length' : 'stop', promptTokens: promptText.split(/\s+/).filter(Boolean).length };
  }

  private async chat(b: ChatBody, res: ServerResponse, fault: Fault | null): Promise<void> {
    if (fault?.kind === 'hang') return; // never answer
    if (fault?.kind === 'reset') {
      res.socket?.destroy();
      return;
    }
    if (fault?.kind === 'slowFirstByte') await delay(fault.delayMs);
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {};
      if (fault.retryAfterS !== undefined) headers['retry-after'] = String(fault.retryAfterS);
      return this.json(res, fault.status, this.errorObject(fault.message ?? `injected ${fault.status}`), headers);
    }
    if (fault?.kind === 'errorBody') return this.json(res, 200, this.errorObject(fault.message ?? 'model failed to load'));
    const { pieces, finish, promptTokens } = this.pieces(b);
    const model = b.model ?? 'unknown';
    if (!b.stream) {
      if (fault?.kind === 'malformedJson') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"choices": [ {"message": oops');
        return;
      }
      if (fault?.kind === 'cutStream' || fault?.kind === 'endWithoutDone') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id":"x","choices":[{"message":{"content":"Hel', () => {
          if (fault.kind === 'cutStream') setTimeout(() => res.socket?.destroy(), 15);
          else res.end();
        });
        return;
      }
      return this.json(res, 200, this.fullResponse(model, pieces.join(''), finish, promptTokens, pieces.length));
    }
    // streaming
    const sse = this.kind !== 'ollama';
    res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/x-ndjson', 'cache-control': 'no-cache' });
    // each piece is flushed before the next step, so a cut after N pieces really delivers N pieces first
    const write = (s: string) => new Promise<void>((resolve) => res.write(s, () => resolve()));
    const cut = async () => {
      await delay(15);
      res.socket?.destroy();
    };
    if (fault?.kind === 'malformedJson') {
      await write(sse ? 'data: {not json\n\n' : '{not json\n');
      res.end();
      return;
    }
    if (this.kind === 'anthropic') {
      await write(ev('message_start', { type: 'message_start', message: { id: 'msg_fake', type: 'message', role: 'assistant', model, content: [], usage: { input_tokens: promptTokens, output_tokens: 0 } } }));
      await write(ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
      await write(ev('ping', { type: 'ping' }));
    }
    for (let i = 0; i < pieces.length; i++) {
      if ((fault?.kind === 'cutStream' || fault?.kind === 'endWithoutDone') && i === fault.afterChunks) {
        if (fault.kind === 'cutStream') await cut();
        else res.end();
        return;
      }
      if (this.chunkDelayMs > 0 && i > 0) await delay(this.chunkDelayMs);
      if (res.destroyed) return;
      const p = pieces[i];
      if (this.kind === 'ollama') await write(`${JSON.stringify({ model, created_at: new Date().toISOString(), message: { role: 'assistant', content: p }, done: false })}\n`);
      else if (this.kind === 'openai') await write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: p } : { content: p }, finish_reason: null }] })}\n\n`);
      else await write(ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } }));
    }
    if (this.kind === 'ollama') {
      await write(`${JSON.stringify({ model, created_at: new Date().toISOString(), message: { role: 'assistant', content: '' }, done: true, done_reason: finish, prompt_eval_count: promptTokens, eval_count: pieces.length })}\n`);
    } else if (this.kind === 'openai') {
      await write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: {}, finish_reason: finish }] })}\n\n`);
      if (b.stream_options?.include_usage) {
        await write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: pieces.length, total_tokens: promptTokens + pieces.length } })}\n\n`);
      }
      await write('data: [DONE]\n\n');
    } else {
      await write(ev('content_block_stop', { type: 'content_block_stop', index: 0 }));
      await write(ev('message_delta', { type: 'message_delta', delta: { stop_reason: finish === 'length' ? 'max_tokens' : 'end_turn' }, usage: { output_tokens: pieces.length } }));
      await write(ev('message_stop', { type: 'message_stop' }));
    }
    res.end();
  }

  private fullResponse(model: string, text: string, finish: string, pt: number, ct: number): unknown {
    if (this.kind === 'ollama') {
      return { model, created_at: new Date().toISOString(), message: { role: 'assistant', content: text }, done: true, done_reason: finish, prompt_eval_count: pt, eval_count: ct };
    }
    if (this.kind === 'openai') {
      return { id: 'chatcmpl-fake', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }], usage: { prompt_tokens: pt, completion_tokens: ct, total_tokens: pt + ct } };
    }
    return { id: 'msg_fake', type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: finish === 'length' ? 'max_tokens' : 'end_turn', usage: { input_tokens: pt, output_tokens: ct } };
  }
}

function ev(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts a fake of `kind` on a random loopback port. */
export async function startFake(kind: FakeKind, name?: string): Promise<FakeLlmServer> {
  return new FakeLlmServer(kind, name).start(0);
}
