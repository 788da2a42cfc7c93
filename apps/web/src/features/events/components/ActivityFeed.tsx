import '../events.css';
import { useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { EventEnvelope } from '@app/contracts';
import type { FormatContext } from '../format/formatEvent';
import { FeedItem } from './FeedItem';

type ActivityFeedProps = {
  /** Newest first. */
  events: readonly EventEnvelope[];
  context?: FormatContext;
  loading?: boolean;
  /** Row height in px (rows are one line). */
  rowHeight?: number;
};

/** The virtualised activity feed (newest first); only the visible rows are in the DOM. */
export function ActivityFeed({ events, context, loading = false, rowHeight = 34 }: ActivityFeedProps) {
  const parentRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: events.length,
    getScrollElement: () => parentRef.current,
    estimateSize: () => rowHeight,
    overscan: 10,
    getItemKey: (index) => events[index].seq,
    initialRect: { width: 800, height: 480 },
  });
  return (
    <div className="activity-feed" ref={parentRef} data-testid="activity-feed" aria-live="polite" aria-busy={loading}>
      {events.length === 0 && <p className="muted feed-empty">{loading ? 'Loading events…' : 'No events yet.'}</p>}
      <div className="activity-feed__inner" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((row) => (
          <div key={row.key} className="activity-feed__row" style={{ height: row.size, transform: `translateY(${row.start}px)` }}>
            <FeedItem event={events[row.index]} context={context} />
          </div>
        ))}
      </div>
    </div>
  );
}
