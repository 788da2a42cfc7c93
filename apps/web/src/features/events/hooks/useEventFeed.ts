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
};

/**
 * The live activity feed of one channel (`all` on the Live page, `mobile` on the phone): a snapshot from
 * GET /api/events patched by realtime frames in this one place. Mount once per page.
 * @returns the react-query result; `data.items` is newest first.
 */
export function useEventFeed(channel: string, { limit = 200, max = 1000, types }: Options = {}) {
  const qc = useQueryClient();
  const query = useQuery(feedQuery(channel, limit, types));
  const key = eventKeys.feed(channel);
  const sub = useChannel(channel, {
    onEvents: (events) => {
      qc.setQueryData<Snapshot<FeedData>>(key, (old) => (old ? mergeFeed(old, events, max) : old));
    },
    onGap: () => {
      void qc.invalidateQueries({ queryKey: key });
    },
  });
  useBaseline(sub, query.data);
  return query;
}
