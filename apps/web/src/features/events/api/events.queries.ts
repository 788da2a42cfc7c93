import { queryOptions } from '@tanstack/react-query';
import type { EventEnvelope, EventType } from '@app/contracts';
import { stampSnapshot } from '../../../lib/realtime-react';
import { EMPTY_FILTERS, fetchEventSummary, fetchEvents, type EventCursor, type EventFilters } from './events.api';

export const eventKeys = {
  all: ['events'] as const,
  feed: (channel: string, exclude: readonly string[] = []) => ['events', 'feed', channel, ...exclude] as const,
  list: (filters: EventFilters, cursor: EventCursor) => ['events', 'list', filters, cursor] as const,
  summary: (minutes: number) => ['events', 'summary', minutes] as const,
};

/** The live feed state: newest first. */
export interface FeedData {
  items: EventEnvelope[];
  headSeq: number;
  epoch: string;
}

/** Snapshot of the activity feed of a channel (newest `limit` events, optionally of some types). */
export const feedQuery = (channel: string, limit: number, types?: readonly EventType[], exclude: readonly EventType[] = []) =>
  queryOptions({
    queryKey: eventKeys.feed(channel, exclude),
    queryFn: async () => {
      // the API leaves the excluded types out (`excludeType`); filtered here as well for a server without it
      const page = await fetchEvents({ ...EMPTY_FILTERS, types: types ? [...types] : [], excludeTypes: [...exclude] }, {}, limit);
      const items = exclude.length > 0 ? page.items.filter((e) => !exclude.includes(e.type)).slice(0, limit) : page.items;
      return stampSnapshot<FeedData>({ items, headSeq: page.headSeq, epoch: page.epoch });
    },
    staleTime: Infinity,
  });

export const eventListQuery = (filters: EventFilters, cursor: EventCursor) =>
  queryOptions({ queryKey: eventKeys.list(filters, cursor), queryFn: () => fetchEvents(filters, cursor, 50) });

export const eventSummaryQuery = (minutes = 60) =>
  queryOptions({ queryKey: eventKeys.summary(minutes), queryFn: () => fetchEventSummary(minutes), refetchInterval: 30_000 });

/** Merges live envelopes into a newest-first feed, dropping seqs it already holds, keeping `max` items. */
export function mergeFeed<T extends FeedData>(old: T, events: readonly EventEnvelope[], max: number): T {
  const seen = new Set(old.items.map((e) => e.seq));
  const fresh = events.filter((e) => !seen.has(e.seq)).sort((a, b) => b.seq - a.seq);
  if (!fresh.length) return old;
  const items = [...fresh, ...old.items].sort((a, b) => b.seq - a.seq).slice(0, max);
  return { ...old, items, headSeq: Math.max(old.headSeq, fresh[0].seq) };
}
