import { contentTokens } from '../memory-text';
import { l2normalize, type Embedder } from './embedder';

/** 32-bit FNV-1a of a string's UTF-16 code units (stable across processes, platforms and restarts). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Strips a common English suffix from words longer than 4 letters (so "paints"/"painting" share a feature). */
function lightStem(w: string): string {
  return w.length > 4 ? w.replace(/(ing|ed|es|s|ly)$/, '') : w;
}

/**
 * The deterministic fallback embedder: needs nothing, gives the same vector for the same text in every process.
 * Feature hashing (signed, FNV-1a) of content words (stop words removed, light suffix stemming) with weight 1 and of
 * each word's boundary-marked character trigrams with weight 0.3, into `dimension` buckets, L2-normalised.
 * Text with no content word gives the zero vector (cosine 0 with everything). It is a lexical signal, not a semantic
 * one: on LoCoMo it adds little to BM25 (see docs/memory-eval.md), so its fusion weight is small.
 */
/** Texts embedded between two yields to the event loop (see HashEmbedder.embed). */
const YIELD_EVERY = 16;

export class HashEmbedder implements Embedder {
  readonly kind = 'fallback';
  readonly model: string;

  constructor(readonly dimension = 384) {
    this.model = `hash-fnv1a-v1-${dimension}`;
  }

  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dimension);
    for (const w0 of contentTokens(text)) {
      const w = lightStem(w0);
      this.add(v, `w:${w}`, 1);
      const p = `<${w}>`;
      for (let i = 0; i + 3 <= p.length; i++) this.add(v, `c:${p.slice(i, i + 3)}`, 0.3);
    }
    return l2normalize(v);
  }

  /**
   * Embeds on the event loop, yielding every YIELD_EVERY texts: a background batch of hundreds would otherwise hold the
   * loop for several ms at a time, and every store waiting on it (the worker runs in the API process) would see that.
   */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i++) {
      if (i > 0 && i % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      out.push(this.embedOne(texts[i]));
    }
    return out;
  }

  private add(v: Float32Array, feature: string, weight: number): void {
    const h = fnv1a32(feature);
    v[h % this.dimension] += h & 0x80000000 ? -weight : weight;
  }
}
