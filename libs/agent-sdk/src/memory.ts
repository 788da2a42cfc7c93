import type { MemoryContextResponse, MemoryEntryDto, MemoryEntryType, MemoryFilters, MemorySearchMode, MemorySearchResponse } from '@app/contracts';
import { RestClient, queryString } from './rest';

/** What `remember` stores (see `POST /api/memory`). */
export interface RememberRequest {
  content: string;
  type?: MemoryEntryType;
  source?: string;
  agentId?: string;
  taskId?: string;
  sessionId?: string;
  metadata?: Record<string, unknown>;
  createdAt?: string;
}

/**
 * `POST /api/memory`: stores an entry; resolves once it is committed and keyword-searchable (embedding follows in the
 * background). @throws AgentSdkError 400 `memory/invalid_content`, 413 for content over the limit.
 */
export function remember(rest: RestClient, req: RememberRequest): Promise<MemoryEntryDto> {
  return rest.post<MemoryEntryDto>('/api/memory', req);
}

/**
 * `POST /api/memory/search`: hybrid search after filters. Use `{ agentId, includeShared: true }` for an agent's own
 * plus the shared swarm scope. @throws AgentSdkError 400 `memory/invalid_limit` / `memory/invalid_filter`.
 */
export function recall(rest: RestClient, query: string, opts: { filters?: MemoryFilters; limit?: number; mode?: MemorySearchMode } = {}): Promise<MemorySearchResponse> {
  return rest.post<MemorySearchResponse>('/api/memory/search', { query, ...opts });
}

/** `POST /api/memory/context`: a prompt block within `maxTokens` (default 2,000) with provenance per item. */
export function memoryContext(rest: RestClient, query: string, opts: { maxTokens?: number; filters?: MemoryFilters } = {}): Promise<MemoryContextResponse> {
  return rest.post<MemoryContextResponse>('/api/memory/context', { query, ...opts });
}

/** `POST /api/memory/facts`: sets a fact; the open one with the same subject/key is superseded (kept). */
export function setFact(rest: RestClient, req: { subject: string; key: string; content: string; validFrom?: string; agentId?: string }): Promise<MemoryEntryDto> {
  return rest.post<MemoryEntryDto>('/api/memory/facts', req);
}

/** `GET /api/memory/facts` (current), or `GET /api/memory/facts/as-of?at=` when `at` is given. */
export function facts(rest: RestClient, opts: { subject?: string; at?: string } = {}): Promise<MemoryEntryDto[]> {
  return opts.at
    ? rest.get<MemoryEntryDto[]>(`/api/memory/facts/as-of${queryString({ at: opts.at, subject: opts.subject })}`)
    : rest.get<MemoryEntryDto[]>(`/api/memory/facts${queryString({ subject: opts.subject })}`);
}
