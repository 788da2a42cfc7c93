import type { MemoryEntryDto, MemoryFilters, MemorySearchMode, MemorySearchResponse, MemoryStatsDto } from '@app/contracts';
import { api } from '../../../lib/api-client';

/** A search as the page asks it: query, filters (empty values left out), mode and limit. */
export type MemorySearchParams = { query: string; filters: MemoryFilters; mode: MemorySearchMode; limit: number };

/** Drops empty filter values (the API rejects unknown keys, not empty ones, but '' would filter on ''). */
export function cleanFilters(f: MemoryFilters): MemoryFilters {
  const out: MemoryFilters = {};
  for (const [k, v] of Object.entries(f) as [keyof MemoryFilters, unknown][]) {
    if (v === undefined || v === null || v === '') continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

export const searchMemory = (p: MemorySearchParams) =>
  api.post<MemorySearchResponse>('/api/memory/search', { query: p.query, filters: cleanFilters(p.filters), mode: p.mode, limit: p.limit });
export const fetchMemoryEntry = (id: string) => api.get<MemoryEntryDto>(`/api/memory/${encodeURIComponent(id)}`);
export const fetchMemoryStats = () => api.get<MemoryStatsDto>('/api/memory/stats');
/** Currently valid facts (newest version of every subject/key). */
export const fetchCurrentFacts = (subject?: string) => api.get<MemoryEntryDto[]>('/api/memory/facts', { subject });
/** Every version of one subject/key, oldest first. */
export const fetchFactHistory = (subject: string, key: string) => api.get<MemoryEntryDto[]>('/api/memory/facts/history', { subject, key });
export const setMemoryFact = (body: { subject: string; key: string; content: string; validFrom?: string }) => api.post<MemoryEntryDto>('/api/memory/facts', body);
export const deleteMemoryEntry = (id: string) => api.delete<MemoryEntryDto>(`/api/memory/${encodeURIComponent(id)}`);
export const reindexMemory = () => api.post<{ model: string; total: number }>('/api/memory/reindex');
