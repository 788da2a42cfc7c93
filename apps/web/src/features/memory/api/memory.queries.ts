import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { stampSnapshot } from '../../../lib/realtime-react';
import { fetchCurrentFacts, fetchFactHistory, fetchMemoryEntry, fetchMemoryStats, searchMemory, type MemorySearchParams } from './memory.api';

export const memoryKeys = {
  all: ['memory'] as const,
  stats: () => ['memory', 'stats'] as const,
  searches: () => ['memory', 'search'] as const,
  search: (p: MemorySearchParams) => ['memory', 'search', p] as const,
  entry: (id: string) => ['memory', 'entry', id] as const,
  facts: () => ['memory', 'facts'] as const,
  history: (subject: string, key: string) => ['memory', 'facts', 'history', subject, key] as const,
};

/** Stats; its headSeq is the `memory` channel baseline. */
export const memoryStatsQuery = () => queryOptions({ queryKey: memoryKeys.stats(), queryFn: async () => stampSnapshot(await fetchMemoryStats()) });
/** A search (disabled while the query is empty); the previous hits stay on screen while the next search runs. */
export const memorySearchQuery = (p: MemorySearchParams | null) =>
  queryOptions({
    queryKey: p ? memoryKeys.search(p) : [...memoryKeys.searches(), null],
    queryFn: () => searchMemory(p!),
    enabled: p !== null && p.query.trim().length > 0,
    placeholderData: keepPreviousData,
    retry: false,
  });
export const memoryEntryQuery = (id: string) => queryOptions({ queryKey: memoryKeys.entry(id), queryFn: () => fetchMemoryEntry(id), retry: false });
export const currentFactsQuery = () => queryOptions({ queryKey: memoryKeys.facts(), queryFn: () => fetchCurrentFacts() });
export const factHistoryQuery = (subject: string, key: string) => queryOptions({ queryKey: memoryKeys.history(subject, key), queryFn: () => fetchFactHistory(subject, key) });
