import '../events.css';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../../../lib/api-client';
import { eventSummaryQuery } from '../api/events.queries';
import { EVENT_SPECS } from '../format/formatEvent';

/** Counts per event type over the last hour (refreshed every 30 s). */
export function EventSummaryPanel() {
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
          <li key={type} className="chip" data-testid={`summary-${type}`}>
            <span aria-hidden="true">{(EVENT_SPECS as Record<string, { icon: string } | undefined>)[type]?.icon ?? '•'}</span> {type}{' '}
            <strong>{count}</strong>
          </li>
        ))}
        {data && rows.length === 0 && <li className="muted">No events in the last hour.</li>}
      </ul>
    </section>
  );
}
