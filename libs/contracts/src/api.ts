import type { EventEnvelope, EventType } from './events';

/** Error body of every 4xx/5xx: `code` is a stable `domain/reason` string. */
export interface ErrorResponse {
  statusCode: number;
  code: string;
  message: string;
  details?: unknown;
}

export interface EventQuery {
  type?: EventType | EventType[];
  /** Types to leave out. */
  excludeType?: EventType | EventType[];
  source?: string;
  agentId?: string;
  /** A task id or a unique prefix of one (4+ characters); an ambiguous prefix is a 400. */
  taskId?: string;
  channel?: string;
  /** ISO time, inclusive. */
  from?: string;
  /** ISO time, exclusive. */
  to?: string;
  /** Cursor: only events with seq < before (newest-first paging). */
  before?: number;
  /** Cursor: only events with seq > after (oldest-first paging). */
  after?: number;
  limit?: number;
}

export interface EventPage {
  items: EventEnvelope[];
  headSeq: number;
  epoch: string;
  /** Pass as `before` (or `after` when paging forward) to get the next page; null at the end. */
  nextCursor: number | null;
}

export interface EventSummary {
  from: string;
  to: string;
  counts: Record<string, number>;
  total: number;
  headSeq: number;
}

export interface IngestEventRequest {
  type: 'tool.called' | 'tool.completed' | 'tool.failed';
  taskId?: string;
  data?: Record<string, unknown>;
}

export interface HealthResponse {
  status: 'ok' | 'error';
  db: 'up' | 'down';
  epoch: string;
  headSeq: number;
  /** Hash of the newest event (tamper-evidence chain head, ADR 0009); null for an empty log or when the db is down. */
  headHash: string | null;
  uptimeS: number;
  version: string;
}

/** `GET /api/events/verify`: the result of recomputing the event hash chain (ADR 0009). */
export interface ChainVerification {
  ok: boolean;
  /** First and last seq checked. */
  from: number;
  to: number;
  /** Rows whose hash matched. */
  checked: number;
  /** Last pruned seq (0 if none) and the hash recorded for it: where verification of the whole log starts. */
  baseSeq: number;
  baseHash: string;
  /** The newest row's seq and hash, to anchor elsewhere (null hash for an empty log). */
  headSeq: number;
  headHash: string | null;
  /** The first row whose stored hash is not the recomputed one; null when the range verified. */
  firstBreak: { seq: number; expected: string; actual: string | null } | null;
}
