/**
 * Semantic memory wire types (REST `/api/memory`, events on channel `memory`).
 * Times are ISO-8601 UTC strings with milliseconds; scores are unitless (higher is better).
 */
import type { EventSpecs } from './event-spec';

/** What an entry is. `fact` entries also carry subject/key and a validity interval. */
export const MEMORY_ENTRY_TYPES = ['conversation', 'fact', 'document', 'task_result', 'observation'] as const;
export type MemoryEntryType = (typeof MEMORY_ENTRY_TYPES)[number];

/** Which retrieval served a search: both signals, keyword only (no vectors / embedder down), vector only. */
export const MEMORY_SEARCH_MODES = ['hybrid', 'lexical', 'vector'] as const;
export type MemorySearchMode = (typeof MEMORY_SEARCH_MODES)[number];

/** One stored memory entry. */
export interface MemoryEntryDto {
  id: string;
  content: string;
  type: MemoryEntryType;
  source: string;
  agentId: string | null;
  taskId: string | null;
  sessionId: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  /** Facts only (null otherwise). */
  subject: string | null;
  factKey: string | null;
  validFrom: string | null;
  validTo: string | null;
  supersededBy: string | null;
  /** Embedder models that have a vector for this entry. */
  embeddedModels: string[];
  deletedAt: string | null;
}

/** The filters every search/context call accepts; all given fields are ANDed. */
export interface MemoryFilters {
  type?: MemoryEntryType;
  agentId?: string;
  /** With `agentId`: also entries of no agent (the shared swarm scope). */
  includeShared?: boolean;
  taskId?: string;
  sessionId?: string;
  source?: string;
  /** createdAt >= from */
  from?: string;
  /** createdAt < to */
  to?: string;
}

/** Score components of one hit (all in [0, ~2]); `score` is the fused total the list is sorted by. */
export interface MemoryScoreComponents {
  /** BM25 of the entry, normalised by the best BM25 of the query (1 = best keyword match). */
  lexical: number;
  /** Cosine similarity to the query vector (0 when not embedded with the query's model). */
  vector: number;
  /** Added from adjacent entries of the same session. */
  neighbors: number;
  /** Added from the best entry of the same session. */
  session: number;
  /** Multiplier applied because the query names the entry's source (1 = none). */
  sourceBoost: number;
}

export interface MemorySearchHit {
  entry: MemoryEntryDto;
  score: number;
  components: MemoryScoreComponents;
}

export interface MemorySearchResponse {
  mode: MemorySearchMode;
  /** Embedder model whose vectors were compared (null in lexical mode). */
  model: string | null;
  /** Why a weaker mode than asked served the search (e.g. `embedder_unavailable`), else null. */
  degraded: string | null;
  hits: MemorySearchHit[];
}

/** One item of a context block with its provenance. */
export interface MemoryContextItem {
  entryId: string;
  source: string;
  createdAt: string;
  type: MemoryEntryType;
  tokens: number;
  /** Always-in-context personal fact. */
  pinned: boolean;
}

export interface MemoryContextResponse {
  /** The block to put in a prompt ('' when nothing matched). */
  text: string;
  /** Tokens of `text` (cl100k_base / o200k-family tokenizer, gpt-tokenizer). */
  tokens: number;
  maxTokens: number;
  mode: MemorySearchMode;
  items: MemoryContextItem[];
  /** Hits that did not fit the budget. */
  skipped: number;
}

/** Embedder status as shown in stats. */
export interface MemoryEmbedderStatus {
  /** Configured kind: `fallback`, `ollama`, `openai`, `transformers`. */
  kind: string;
  model: string;
  dimension: number;
  state: 'ok' | 'backing_off' | 'unavailable';
  lastError: string | null;
  /** When the next attempt is due while backing off. */
  retryAt: string | null;
  /** The kind MEMORY_EMBEDDER asked for (differs from `kind` when the chain fell back). */
  configured?: string;
  /** Why the configured embedder could not be used at boot (e.g. a missing transformers model directory), else null. */
  fallbackReason?: string | null;
}

export interface MemoryStatsDto {
  total: number;
  byType: Record<MemoryEntryType, number>;
  deleted: number;
  /** Live entries with a vector of the current model. */
  embedded: number;
  /** embedded / total (1 when the store is empty). */
  embeddedShare: number;
  /** Live entries still waiting for a vector of the current model (the embedding queue's lag). */
  queueLag: number;
  embedder: MemoryEmbedderStatus;
  /** Vectors per model (a model change leaves the old ones until re-embedding is done). */
  vectorsByModel: Record<string, number>;
  reindex: { running: boolean; model: string; done: number; total: number } | null;
  /** What serves vector KNN: sqlite-vec `vec0`, pgvector HNSW, or an exact scan (PostgreSQL without pgvector). */
  vectorIndex: 'sqlite-vec' | 'pgvector-hnsw' | 'brute-force';
  /** Event-log head seq read before the counts: the `memory` channel baseline. */
  headSeq: number;
  /** The log's epoch (`meta.epoch`). */
  epoch: string;
}

/** At most this many characters of content travel in an event (`preview`); the entry is fetched by id. */
export const MEMORY_EVENT_PREVIEW_CHARS = 200;

/** Typed payloads of the memory channel's events. */
export interface MemoryEventDataMap {
  'memory.stored': {
    entryId: string;
    type: MemoryEntryType;
    source: string;
    sessionId: string | null;
    /** First MEMORY_EVENT_PREVIEW_CHARS characters of the content. */
    preview: string;
    contentChars: number;
    subject: string | null;
    factKey: string | null;
  };
  'memory.fact_superseded': {
    subject: string;
    factKey: string;
    oldEntryId: string;
    newEntryId: string;
    validTo: string;
  };
  'memory.deleted': { entryId: string; type: MemoryEntryType };
  'memory.reindex_started': { model: string; dimension: number; total: number };
  'memory.reindex_progress': { model: string; done: number; total: number };
  'memory.reindex_completed': { model: string; embedded: number; durationMs: number };
}

export const MEMORY_EVENT_TYPES = [
  'memory.stored',
  'memory.fact_superseded',
  'memory.deleted',
  'memory.reindex_started',
  'memory.reindex_progress',
  'memory.reindex_completed',
] as const satisfies readonly (keyof MemoryEventDataMap)[];
export type MemoryEventType = (typeof MEMORY_EVENT_TYPES)[number];

/** Channel and mobile-digest membership of each memory event. */
export const MEMORY_EVENT_SPECS = {
  'memory.stored': { channel: 'memory', mobile: false },
  'memory.fact_superseded': { channel: 'memory', mobile: false },
  'memory.deleted': { channel: 'memory', mobile: false },
  'memory.reindex_started': { channel: 'memory', mobile: false },
  'memory.reindex_progress': { channel: 'memory', mobile: false },
  'memory.reindex_completed': { channel: 'memory', mobile: false },
} as const satisfies EventSpecs<MemoryEventDataMap>;
