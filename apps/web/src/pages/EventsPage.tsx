import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { ErrorText } from '../components/ui/ErrorText';
import { EMPTY_FILTERS, exportUrl, type EventCursor, type EventFilters } from '../features/events/api/events.api';
import { eventListQuery } from '../features/events/api/events.queries';
import { EventFiltersForm } from '../features/events/components/EventFiltersForm';
import { EventSummaryPanel } from '../features/events/components/EventSummaryPanel';
import { EventsTable } from '../features/events/components/EventsTable';

/** Events: filters, table with seq cursor paging (Older / Newer), exports, last-hour summary. */
export function EventsPage() {
  const [filters, setFilters] = useState<EventFilters>(EMPTY_FILTERS);
  const [cursor, setCursor] = useState<EventCursor>({});
  const page = useQuery({ ...eventListQuery(filters, cursor), placeholderData: keepPreviousData });
  const items = page.data?.items ?? [];
  const atNewest = cursor.before === undefined && cursor.after === undefined;
  // Paging newest-first: "Older" continues below the last row; "Newer" above the first row.
  const olderCursor = cursor.after !== undefined ? (items.length ? items[items.length - 1].seq : null) : (page.data?.nextCursor ?? null);
  const newerReachedHead = cursor.after !== undefined && page.data !== undefined && page.data.nextCursor === null;

  const handleApply = (f: EventFilters) => {
    setFilters(f);
    setCursor({});
  };

  return (
    <div className="page-stack">
      <section className="panel">
        <div className="panel__title-row">
          <h2>Events</h2>
          <div className="btn-row">
            <a className="btn" href={exportUrl(filters, 'ndjson')} download data-testid="export-ndjson">
              Export NDJSON
            </a>
            <a className="btn" href={exportUrl(filters, 'csv')} download data-testid="export-csv">
              Export CSV
            </a>
          </div>
        </div>
        <EventFiltersForm onApply={handleApply} />
      </section>
      <EventSummaryPanel />
      <section className="panel">
        <div className="panel__title-row">
          <span className="muted small">
            {page.data ? `head seq ${page.data.headSeq}` : ''} {page.isFetching ? '· loading…' : ''}
          </span>
          <div className="btn-row">
            <button type="button" className="btn" disabled={atNewest || newerReachedHead} onClick={() => setCursor(items.length ? { after: items[0].seq } : {})} data-testid="events-newer">
              ← Newer
            </button>
            <button type="button" className="btn" onClick={() => setCursor({})} disabled={atNewest}>
              Latest
            </button>
            <button type="button" className="btn" disabled={olderCursor === null || items.length === 0} onClick={() => olderCursor !== null && setCursor({ before: olderCursor })} data-testid="events-older">
              Older →
            </button>
          </div>
        </div>
        <ErrorText error={page.error} />
        <EventsTable events={items} />
      </section>
    </div>
  );
}
