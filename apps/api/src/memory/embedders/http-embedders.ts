import { EmbedderError, l2normalize, type Embedder } from './embedder';

async function postJson(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: both });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    if (timeout.aborted || signal?.aborted) throw new EmbedderError(`embedding request timed out or was aborted (limit ${timeoutMs} ms)`, true);
    throw new EmbedderError(`embedding server unreachable (${e.cause?.code ?? e.name ?? 'error'})`, true);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    const retryable = res.status === 429 || res.status >= 500;
    throw new EmbedderError(`embedding server answered HTTP ${res.status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`, retryable, res.status);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EmbedderError('embedding server sent a body that is not JSON', true, res.status);
  }
}

function toVectors(raw: unknown, expected: number, dim: number, where: string): Float32Array[] {
  if (!Array.isArray(raw) || raw.length !== expected) {
    throw new EmbedderError(`${where}: expected ${expected} embeddings, got ${Array.isArray(raw) ? raw.length : typeof raw}`, true);
  }
  return raw.map((v, i) => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new EmbedderError(`${where}: embedding ${i} is not an array of numbers`, true);
    }
    if (v.length !== dim) {
      throw new EmbedderError(`${where}: dimension mismatch, configured ${dim}, got ${v.length} (set MEMORY_EMBED_DIM to the model's size)`, false);
    }
    return l2normalize(Float32Array.from(v as number[]));
  });
}

/**
 * Ollama `POST /api/embed` (`{ model, input: string[] }` -> `{ embeddings: number[][] }`), e.g. all-minilm (384-d)
 * or nomic-embed-text (768-d). Vectors are L2-normalised.
 */
export class OllamaEmbedder implements Embedder {
  readonly kind = 'ollama';
  readonly model: string;

  constructor(
    private readonly baseUrl: string,
    private readonly modelName: string,
    readonly dimension: number,
    private readonly timeoutMs: number,
  ) {
    this.model = `ollama:${modelName}`;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const body = (await postJson(`${this.baseUrl.replace(/\/$/, '')}/api/embed`, { model: this.modelName, input: texts }, {}, this.timeoutMs, signal)) as {
      embeddings?: unknown;
    };
    return toVectors(body?.embeddings, texts.length, this.dimension, 'ollama /api/embed');
  }
}

/**
 * Any OpenAI-compatible `POST /v1/embeddings` (`{ model, input: string[] }` -> `{ data: [{ index, embedding }] }`);
 * results are put back in `index` order. The API key goes only in the Authorization header.
 */
export class OpenAiEmbedder implements Embedder {
  readonly kind = 'openai';
  readonly model: string;

  constructor(
    private readonly baseUrl: string,
    private readonly modelName: string,
    readonly dimension: number,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
  ) {
    this.model = `openai:${modelName}`;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const base = this.baseUrl.replace(/\/$/, '');
    const url = base.endsWith('/v1') ? `${base}/embeddings` : `${base}/v1/embeddings`;
    const headers: Record<string, string> = this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
    const body = (await postJson(url, { model: this.modelName, input: texts, encoding_format: 'float' }, headers, this.timeoutMs, signal)) as {
      data?: { index?: number; embedding?: unknown }[];
    };
    if (!Array.isArray(body?.data)) throw new EmbedderError('openai /v1/embeddings: no data array', true);
    const ordered = [...body.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((d) => d.embedding);
    return toVectors(ordered, texts.length, this.dimension, 'openai /v1/embeddings');
  }
}
