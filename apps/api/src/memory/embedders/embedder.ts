/**
 * An embedding model: turns texts into vectors of one fixed dimension. Every stored vector records `model` and
 * `dimension`; search compares only vectors of the query's model.
 */
export interface Embedder {
  /** `fallback`, `ollama`, `openai`, `transformers`. */
  readonly kind: string;
  /** Model id recorded with every vector (e.g. `ollama:all-minilm`, `hash-fnv1a-v1`). */
  readonly model: string;
  /** Vector length this embedder is configured for; a different length from the backend is an error. */
  readonly dimension: number;
  /**
   * Embeds `texts` in one call (order kept).
   * @throws EmbedderError on transport / protocol failures (retryable or not).
   */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** A failed embedding call; `retryable` failures back off and retry, others stop until reconfigured. */
export class EmbedderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'EmbedderError';
  }
}

/** L2-normalises in place (a zero vector stays zero) and returns it. */
export function l2normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/** Cosine similarity of two vectors of equal length; 0 when either has zero norm. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`dimension mismatch: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
