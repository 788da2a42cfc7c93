import type { MemoryScoreComponents } from '@app/contracts';
import { contentTokens, wordTokens } from './memory-text';

/**
 * Fusion weights of hybrid recall. Tuned on LoCoMo dev (docs/memory-eval.md), rounded, and kept only where the idea
 * carries to any conversational store: entries of one session are a conversation in order, so
 * - a hit's neighbours (previous / next entry of the same session) share `neighbor` x its base score (questions are
 *   often answered in the turn after the one that matches the words);
 * - every candidate of a session gets `session` x the best score of that session (topic locality);
 * - a query that names an entry `source` (a speaker) drops the name from the keyword/vector query (names are mostly
 *   used to address the other speaker) and multiplies that source's entries by (1 + `source`).
 */
export interface FusionWeights {
  lexical: number;
  /** Weight of the vector signal; 0 switches it off. */
  vector: number;
  /** Cosine similarities are raised to this power before weighting (sharpens flat hashing-embedder scores). */
  vectorPower: number;
  neighbor: number;
  session: number;
  source: number;
}

/** Defaults: the fallback hashing embedder earns a small weight only (it is a lexical signal too). */
export const FALLBACK_WEIGHTS: FusionWeights = { lexical: 1, vector: 0.3, vectorPower: 2, neighbor: 0.3, session: 0.3, source: 0.5 };
/** For a semantic embedder (Ollama, OpenAI-compatible, transformers.js): not tuned here (none is available offline). */
export const SEMANTIC_WEIGHTS: FusionWeights = { lexical: 1, vector: 1, vectorPower: 1, neighbor: 0.3, session: 0.3, source: 0.5 };

/** A candidate with what fusion needs to know about it. */
export interface Candidate {
  num: number;
  sessionId: string | null;
  source: string;
  /** Raw BM25 (higher is better), 0 when not a lexical hit. */
  bm25: number;
  /** Cosine similarity with the query vector, 0 when none. */
  cosine: number;
  /** `num` of the previous / next live entry of the same session, when loaded. */
  prev: number | null;
  next: number | null;
}

export interface Ranked {
  num: number;
  score: number;
  components: MemoryScoreComponents;
}

/** The parsed query: keyword terms, the text for the embedder, and the sources (speakers) it names. */
export interface ParsedQuery {
  terms: string[];
  vectorText: string;
  namedSources: string[];
}

/**
 * Splits a query into stop-word-free terms. `knownSources` are lowercase single-word source names; those the query
 * names go to `namedSources` and are removed from `terms` / `vectorText` (unless nothing else would be left).
 */
export function parseQuery(query: string, knownSources: ReadonlySet<string>): ParsedQuery {
  const all = contentTokens(query);
  const namedSources = [...new Set(all.filter((w) => knownSources.has(w)))];
  let terms = all.filter((w) => !knownSources.has(w));
  if (terms.length === 0) terms = all.length > 0 ? all : wordTokens(query);
  const vectorText = terms.join(' ');
  return { terms: [...new Set(terms)], vectorText, namedSources };
}

/**
 * Fuses lexical and vector scores with the conversation's structure (see FusionWeights) and sorts descending.
 * `mode` decides which signals count: `lexical` ignores cosine, `vector` ignores BM25.
 */
export function fuse(
  candidates: readonly Candidate[],
  namedSources: readonly string[],
  weights: FusionWeights,
  mode: 'hybrid' | 'lexical' | 'vector',
): Ranked[] {
  const useLex = mode !== 'vector';
  const useVec = mode !== 'lexical' && weights.vector > 0;
  const maxBm25 = Math.max(1e-9, ...candidates.map((c) => c.bm25));
  const base = new Map<number, { lex: number; vec: number }>();
  for (const c of candidates) {
    const lex = useLex ? c.bm25 / maxBm25 : 0;
    const vec = useVec ? Math.max(0, c.cosine) : 0;
    base.set(c.num, { lex, vec });
  }
  const wLex = mode === 'vector' ? 0 : weights.lexical;
  const wVec = mode === 'vector' ? 1 : weights.vector;
  const baseScore = (num: number | null): number => {
    if (num === null) return 0;
    const b = base.get(num);
    return b ? wLex * b.lex + (useVec ? wVec * Math.pow(b.vec, weights.vectorPower) : 0) : 0;
  };
  const named = new Set(namedSources);
  const out: Ranked[] = [];
  for (const c of candidates) {
    const own = baseScore(c.num);
    const neighbors = weights.neighbor * (baseScore(c.prev) + baseScore(c.next));
    const sourceBoost = named.size === 1 && named.has(c.source.toLowerCase()) ? 1 + weights.source : 1;
    const b = base.get(c.num)!;
    out.push({
      num: c.num,
      score: (own + neighbors) * sourceBoost,
      components: { lexical: round(b.lex), vector: round(b.vec), neighbors: round(neighbors), session: 0, sourceBoost },
    });
  }
  // topic locality: the best score of each session lifts its other candidates
  const bestOfSession = new Map<string, number>();
  const sessionOf = new Map(candidates.map((c) => [c.num, c.sessionId]));
  for (const r of out) {
    const s = sessionOf.get(r.num);
    if (s) bestOfSession.set(s, Math.max(bestOfSession.get(s) ?? 0, r.score));
  }
  for (const r of out) {
    const s = sessionOf.get(r.num);
    if (!s || r.score <= 0) continue;
    const bonus = weights.session * (bestOfSession.get(s) ?? 0);
    r.score += bonus;
    r.components.session = round(bonus);
  }
  for (const r of out) r.score = round(r.score);
  return out.filter((r) => r.score > 0).sort((a, b) => b.score - a.score || b.num - a.num);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
