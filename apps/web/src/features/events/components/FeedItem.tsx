import '../events.css';
import type { EventEnvelope } from '@app/contracts';
import { formatEvent, type FormatContext } from '../format/formatEvent';

type FeedItemProps = {
  event: EventEnvelope;
  context?: FormatContext;
  compact?: boolean;
};

/** One feed line: icon, label, text, HH:MM:SS, source. All event data goes through React text nodes. */
export function FeedItem({ event, context, compact = false }: FeedItemProps) {
  const f = formatEvent(event, context);
  return (
    <div className={compact ? 'feed-item feed-item--compact' : 'feed-item'} data-testid="feed-item" data-type={event.type} data-seq={event.seq}>
      <span className="feed-item__icon" aria-hidden="true">
        {f.icon}
      </span>
      <span className="feed-item__label">{f.label}</span>
      <span className="feed-item__text" title={f.text}>
        {f.text}
      </span>
      <time className="feed-item__time" dateTime={event.createdAt}>
        {f.time}
      </time>
      {!compact && <span className="feed-item__source">{event.source}</span>}
    </div>
  );
}
