import { useEffect, useRef } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { EventEnvelope, MemoryStatsDto } from '@app/contracts';
import { useBaseline, useChannel, type Snapshot } from '../../../lib/realtime-react';
import { deleteMemoryEntry, reindexMemory, setMemoryFact, type MemorySearchParams } from '../api/memory.api';
import { currentFactsQuery, factHistoryQuery, memoryEntryQuery, memoryKeys, memorySearchQuery, memoryStatsQuery } from '../api/memory.queries';

export const useMemoryStats = () => useQuery(memoryStatsQuery());
export const useMemorySearch = (p: MemorySearchParams | null) => useQuery(memorySearchQuery(p));
export const useMemoryEntry = (id: string) => useQuery(memoryEntryQuery(id));
export const useCurrentFacts = () => useQuery(currentFactsQuery());
export const useFactHistory = (subject: string, key: string) => useQuery(factHistoryQuery(subject, key));

/** Sets a fact (the open one with the same subject/key is superseded); refreshes facts and stats. */
export function useSetFact() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: setMemoryFact,
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: memoryKeys.facts() });
      void qc.invalidateQueries({ queryKey: memoryKeys.stats() });
    },
  });
}

/** Soft-deletes an entry; the cached entry becomes the deleted one and searches refresh. */
export function useDeleteEntry() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: deleteMemoryEntry,
    onSuccess: (e) => {
      qc.setQueryData(memoryKeys.entry(e.id), e);
      void qc.invalidateQueries({ queryKey: memoryKeys.searches() });
      void qc.invalidateQueries({ queryKey: memoryKeys.facts() });
    },
  });
}

export function useReindex() {
  const qc = useQueryClient();
  return useMutation({ mutationFn: reindexMemory, onSuccess: () => void qc.invalidateQueries({ queryKey: memoryKeys.stats() }) });
}

/**
 * Applies `memory.reindex_*` events to cached stats in place (the progress bar moves without a refetch).
 * @returns the patched stats, or null when the event needs a refetch instead (any other memory event).
 */
export function applyReindexEvent<T extends MemoryStatsDto>(stats: T, e: EventEnvelope): T | null {
  const d = e.data as Record<string, unknown>;
  const model = typeof d.model === 'string' ? d.model : stats.embedder.model;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  if (e.type === 'memory.reindex_started') return { ...stats, reindex: { running: true, model, done: 0, total: num(d.total) } };
  if (e.type === 'memory.reindex_progress') return { ...stats, reindex: { running: true, model, done: num(d.done), total: num(d.total) } };
  if (e.type === 'memory.reindex_completed') return { ...stats, reindex: null };
  return null;
}

/**
 * The memory feature's one realtime hook (mount once on the page): reindex events patch the cached stats' progress;
 * every other `memory.*` event refreshes stats, searches and facts (coalesced per 300 ms, so a burst of stores
 * costs one refetch). A gap refetches everything.
 */
export function useMemoryLiveUpdates(): void {
  const qc = useQueryClient();
  const stats = useMemoryStats();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const sub = useChannel('memory', {
    onEvents: (events: EventEnvelope[]) => {
      let refetch = false;
      for (const e of events) {
        const cached = qc.getQueryData<Snapshot<MemoryStatsDto>>(memoryKeys.stats());
        const patched = cached ? applyReindexEvent(cached, e) : null;
        if (patched) qc.setQueryData(memoryKeys.stats(), patched);
        if (!patched || e.type === 'memory.reindex_completed') refetch = true;
      }
      if (!refetch || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        void qc.invalidateQueries({ queryKey: memoryKeys.all });
      }, 300);
    },
    onGap: () => void qc.invalidateQueries({ queryKey: memoryKeys.all }),
  });
  useBaseline(sub, stats.data);
}
