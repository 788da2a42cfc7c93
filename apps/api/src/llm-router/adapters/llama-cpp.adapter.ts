import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { AdapterRequest, AdapterResult, ChatMessage, ProviderAdapter, ProviderConfig, StreamChunk } from '../llm-router.types';
import { ProviderCallError } from '../router.errors';

/** Default completion budget when the request gives no max_tokens (a small local model rambles on). */
export const LLAMA_DEFAULT_MAX_TOKENS = 256;

/**
 * The worker runs node-llama-cpp (ESM-only, native) in its own thread: loading and decoding never block the API's
 * event loop, and the ESM import works from our CommonJS build. CPU only, never builds from source
 * (`gpu: false, build: 'never'`), one generation at a time on one context sequence.
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
let llama = null, model = null, completion = null, loading = null;
const queue = [];
let busy = false;
const aborts = new Map();
async function load() {
  if (completion) return;
  if (!loading) loading = (async () => {
    const lib = await import(pathToFileURL(workerData.lib).href);
    llama = await lib.getLlama({ gpu: false, build: 'never', logLevel: 'error', progressLogs: false });
    model = await llama.loadModel({ modelPath: workerData.modelPath });
    const ctx = await model.createContext({ threads: workerData.threads, contextSize: workerData.contextSize });
    completion = new lib.LlamaCompletion({ contextSequence: ctx.getSequence() });
  })();
  await loading;
}
async function run(job) {
  const ac = new AbortController();
  aborts.set(job.id, ac);
  try {
    await load();
    if (ac.signal.aborted) throw new Error('aborted');
    const promptTokens = model.tokenize(job.prompt).length;
    let completionTokens = 0;
    const r = await completion.generateCompletionWithMeta(job.prompt, {
      maxTokens: job.maxTokens, temperature: job.temperature, signal: ac.signal,
      onToken: (t) => { completionTokens += t.length; },
      onTextChunk: (text) => { if (text) parentPort.postMessage({ type: 'chunk', id: job.id, text }); },
    });
    parentPort.postMessage({ type: 'done', id: job.id, text: r.response, promptTokens, completionTokens, stopReason: r.metadata && r.metadata.stopReason || null });
  } catch (e) {
    parentPort.postMessage({ type: 'error', id: job.id, aborted: ac.signal.aborted, error: String(e && e.message || e) });
  } finally {
    aborts.delete(job.id);
  }
}
async function pump() {
  if (busy) return;
  busy = true;
  while (queue.length) await run(queue.shift());
  busy = false;
}
parentPort.on('message', async (m) => {
  if (m.type === 'generate') { queue.push(m); pump(); }
  else if (m.type === 'abort') {
    const i = queue.findIndex((j) => j.id === m.id);
    if (i >= 0) { queue.splice(i, 1); parentPort.postMessage({ type: 'error', id: m.id, aborted: true, error: 'aborted' }); }
    const ac = aborts.get(m.id); if (ac) ac.abort();
  } else if (m.type === 'load') {
    try { await load(); parentPort.postMessage({ type: 'loaded', id: m.id }); }
    catch (e) { parentPort.postMessage({ type: 'error', id: m.id, aborted: false, error: String(e && e.message || e) }); }
  } else if (m.type === 'close') {
    for (const ac of aborts.values()) ac.abort();
    try { if (loading) await loading.catch(() => undefined); if (llama) await llama.dispose(); } catch (e) {}
    parentPort.postMessage({ type: 'closed' });
  }
});
`;

type WorkerMsg =
  | { type: 'chunk'; id: number; text: string }
  | { type: 'done'; id: number; text: string; promptTokens: number; completionTokens: number; stopReason: string | null }
  | { type: 'error'; id: number; aborted: boolean; error: string }
  | { type: 'loaded'; id: number }
  | { type: 'closed' };

/** Renders chat messages as a plain transcript prompt (the tiny test model has no chat template). */
export function transcriptPrompt(messages: ChatMessage[]): string {
  const parts = messages.map((m) => `${m.role === 'system' ? 'System' : m.role === 'user' ? 'User' : 'Assistant'}: ${m.content}`);
  return `${parts.join('\n')}\nAssistant:`;
}

/** Resolves node-llama-cpp's entry point (absolute path) or null when it is not installed. */
function resolveLib(): string | null {
  try {
    return require.resolve('node-llama-cpp');
  } catch {
    return null;
  }
}

/**
 * In-process GGUF model through node-llama-cpp, loaded lazily on first use in a worker thread.
 * Tokens are streamed as they are decoded; `max_tokens` bounds the completion; the attempt timeout aborts decoding.
 */
export class LlamaCppAdapter implements ProviderAdapter {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly handlers = new Map<number, (m: WorkerMsg) => void>();

  constructor(private readonly p: ProviderConfig) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const lib = resolveLib();
    if (!lib) throw new ProviderCallError('unavailable', 'node-llama-cpp is not installed (pnpm --filter @app/api add node-llama-cpp @node-llama-cpp/linux-x64)');
    if (!this.p.modelPath || !existsSync(this.p.modelPath)) throw new ProviderCallError('unavailable', `model file not found: ${this.p.modelPath ?? '(none)'}`);
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { lib, modelPath: this.p.modelPath, threads: this.p.threads, contextSize: this.p.contextSize },
    });
    w.unref();
    w.on('message', (m: WorkerMsg) => {
      if (m.type === 'closed') return;
      this.handlers.get(m.id)?.(m);
    });
    w.on('error', (err) => {
      for (const h of this.handlers.values()) h({ type: 'error', id: -1, aborted: false, error: `llama worker crashed: ${err.message}` });
      this.handlers.clear();
      this.worker = null;
    });
    this.worker = w;
    return w;
  }

  /** Starts a job and returns an async queue of its messages. */
  private run(req: AdapterRequest): AsyncGenerator<WorkerMsg> {
    const w = this.ensureWorker();
    const id = this.nextId++;
    const pending: WorkerMsg[] = [];
    let wake: (() => void) | null = null;
    let finished = false;
    this.handlers.set(id, (m) => {
      pending.push(m);
      if (m.type !== 'chunk') finished = true;
      wake?.();
    });
    const onAbort = () => w.postMessage({ type: 'abort', id });
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener('abort', onAbort, { once: true });
    w.postMessage({ type: 'generate', id, prompt: transcriptPrompt(req.messages), maxTokens: req.maxTokens ?? LLAMA_DEFAULT_MAX_TOKENS, temperature: req.temperature });
    const handlers = this.handlers;
    return (async function* () {
      try {
        for (;;) {
          while (pending.length > 0) {
            const m = pending.shift()!;
            yield m;
            if (m.type !== 'chunk') return;
          }
          if (finished) return;
          await new Promise<void>((r) => (wake = r));
          wake = null;
        }
      } finally {
        handlers.delete(id);
        req.signal.removeEventListener('abort', onAbort);
        if (!finished) w.postMessage({ type: 'abort', id });
      }
    })();
  }

  private fail(m: Extract<WorkerMsg, { type: 'error' }>, req: AdapterRequest): never {
    if (m.aborted || req.signal.aborted) throw new ProviderCallError(req.timedOut() ? 'timeout' : 'aborted', req.timedOut() ? 'timed out' : 'aborted by caller');
    throw new ProviderCallError('unavailable', `llama-cpp: ${m.error}`);
  }

  async complete(req: AdapterRequest): Promise<AdapterResult> {
    for await (const m of this.run(req)) {
      if (m.type === 'error') this.fail(m, req);
      if (m.type === 'done') {
        return {
          content: m.text,
          model: req.model,
          usage: { promptTokens: m.promptTokens, completionTokens: m.completionTokens, totalTokens: m.promptTokens + m.completionTokens },
          finishReason: m.stopReason === 'maxTokens' ? 'length' : 'stop',
        };
      }
    }
    throw new ProviderCallError('unavailable', 'llama-cpp worker ended without a result');
  }

  async *stream(req: AdapterRequest): AsyncGenerator<StreamChunk> {
    for await (const m of this.run(req)) {
      if (m.type === 'chunk') yield { type: 'delta', text: m.text };
      else if (m.type === 'error') this.fail(m, req);
      else if (m.type === 'done') {
        yield {
          type: 'done',
          model: req.model,
          usage: { promptTokens: m.promptTokens, completionTokens: m.completionTokens, totalTokens: m.promptTokens + m.completionTokens },
          finishReason: m.stopReason === 'maxTokens' ? 'length' : 'stop',
        };
        return;
      }
    }
  }

  /** Checks the model file and library; when the worker already runs, also loads the model. */
  async probe(): Promise<void> {
    if (!resolveLib()) throw new ProviderCallError('unavailable', 'node-llama-cpp is not installed');
    if (!this.p.modelPath || !existsSync(this.p.modelPath)) throw new ProviderCallError('unavailable', `model file not found: ${this.p.modelPath ?? '(none)'}`);
  }

  /** Disposes the model and stops the worker thread. */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    await new Promise<void>((resolveClose) => {
      const t = setTimeout(resolveClose, 3000);
      w.on('message', (m: WorkerMsg) => {
        if (m.type === 'closed') {
          clearTimeout(t);
          resolveClose();
        }
      });
      w.postMessage({ type: 'close' });
    });
    // the native addon aborts the process if the thread is torn down with the model still alive; after dispose it is safe
    await w.terminate().catch(() => undefined);
  }
}
