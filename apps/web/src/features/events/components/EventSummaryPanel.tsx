import '../events.css';
import { useQuery } from '@tanstack/react-query';
import { isEventType, type EventType } from '@app/contracts';
import { errorMessage } from '../../../lib/api-client';
import { eventSummaryQuery } from '../api/events.queries';
import { EVENT_SPECS } from '../format/formatEvent';

type EventSummaryPanelProps = {
  /** Types the Events table is filtered to: their chips show pressed. */
  activeTypes: readonly EventType[];
  /** A chip was clicked: filter the table to that type (or clear it). */
  onToggleType: (type: EventType) => void;
};

/** Counts per event type over the last hour (refreshed every 30 s); each chip filters the table to its type. */
export function EventSummaryPanel({ activeTypes, onToggleType }: EventSummaryPanelProps) {
  const { data, error, isPending } = useQuery(eventSummaryQuery(60));
  const rows = Object.entries(data?.counts ?? {}).sort((a, b) => b[1] - a[1]);
  return (
    <section className="panel" data-testid="event-summary">
      <h2>
        Last hour <span className="muted">{data ? `${data.total} events` : ''}</span>
      </h2>
      {isPending && <p className="muted">Loading…</p>}
      {error && <p className="error">{errorMessage(error)}</p>}
      <ul className="chips">
        {rows.map(([type, count]) => (
          <li key={type}>
            <button
              type="button"
              className="chip chip--button"
              aria-pressed={activeTypes.includes(type as EventType)}
              disabled={!isEventType(type)}
              onClick={() => isEventType(type) && onToggleType(type)}
              title={`Show only ${type} events (click again to clear)`}
              data-testid={`summary-${type}`}
            >
              <span aria-hidden="true">{(EVENT_SPECS as Record<string, { icon: string } | undefined>)[type]?.icon ?? '•'}</span> {type} <strong>{count}</strong>
            </button>
          </li>
        ))}
        {data && rows.length === 0 && <li className="muted">No events in the last hour.</li>}
      </ul>
    </section>
  );
}
