import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { EventType } from '@app/contracts';
import { useBaseline, useChannel, type Snapshot } from '../../../lib/realtime-react';
import { eventKeys, feedQuery, mergeFeed, type FeedData } from '../api/events.queries';

type Options = {
  /** Snapshot size. */
  limit?: number;
  /** Max items kept in memory. */
  max?: number;
  /** Restrict the snapshot to these types (the channel already filters live frames). */
  types?: readonly EventType[];
  /** Leave these types out of the snapshot and of live frames (e.g. the scheduled `router.metrics_flushed`). */
  exclude?: readonly EventType[];
};

/**
 * Event types the Live page's activity feed hides by default: scheduled bookkeeping that would flood it
 * (`router.metrics_flushed` every flush interval). The Events page still lists them.
 */
export const FEED_HIDDEN_BY_DEFAULT: readonly EventType[] = ['router.metrics_flushed'];

/**
 * The live activity feed of one channel (`all` on the Live page, `mobile` on the phone): a snapshot from
 * GET /api/events patched by realtime frames in this one place. Mount once per page.
 * @returns the react-query result; `data.items` is newest first.
 */
export function useEventFeed(channel: string, { limit = 200, max = 1000, types, exclude = [] }: Options = {}) {
  const qc = useQueryClient();
  const query = useQuery(feedQuery(channel, limit, types, exclude));
  const key = eventKeys.feed(channel, exclude);
  const sub = useChannel(channel, {
    onEvents: (events) => {
      const shown = exclude.length > 0 ? events.filter((e) => !exclude.includes(e.type)) : events;
      qc.setQueryData<Snapshot<FeedData>>(key, (old) => (old ? mergeFeed(old, shown, max) : old));
    },
    onGap: () => {
      void qc.invalidateQueries({ queryKey: key });
    },
  });
  useBaseline(sub, query.data);
  return query;
}
