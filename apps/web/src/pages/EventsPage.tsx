import { useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { EventType } from '@app/contracts';
import { ErrorText } from '../components/ui/ErrorText';
import { exportUrl, type EventCursor, type EventFilters } from '../features/events/api/events.api';
import { toggleTypeFilter, viewFromSearch, viewToSearch } from '../features/events/api/events.url';
import { eventListQuery } from '../features/events/api/events.queries';
import { EventFiltersForm } from '../features/events/components/EventFiltersForm';
import { EventSummaryPanel } from '../features/events/components/EventSummaryPanel';
import { EventsTable } from '../features/events/components/EventsTable';

/**
 * Events: filters, table with seq cursor paging (Older / Newer), exports, last-hour summary whose chips filter by
 * type. The view (filters and cursor) lives in the URL, so reload, back/forward and a shared link restore it.
 */
export function EventsPage() {
  const [params, setParams] = useSearchParams();
  const search = params.toString();
  const { filters, cursor } = useMemo(() => viewFromSearch(new URLSearchParams(search)), [search]);
  const setView = (f: EventFilters, c: EventCursor) => setParams(viewToSearch({ filters: f, cursor: c }));
  const setCursor = (c: EventCursor) => setView(filters, c);
  const page = useQuery({ ...eventListQuery(filters, cursor), placeholderData: keepPreviousData });
  const items = page.data?.items ?? [];
  const atNewest = cursor.before === undefined && cursor.after === undefined;
  // Paging newest-first: "Older" continues below the last row; "Newer" above the first row.
  const olderCursor = cursor.after !== undefined ? (items.length ? items[items.length - 1].seq : null) : (page.data?.nextCursor ?? null);
  const newerReachedHead = cursor.after !== undefined && page.data !== undefined && page.data.nextCursor === null;

  const handleApply = (f: EventFilters) => setView(f, {});
  const handleToggleType = (type: EventType) => setView(toggleTypeFilter(filters, type), {});
  // the form starts from the URL's filters and is remounted when they change (a chip, back/forward)
  const filtersKey = viewToSearch({ filters, cursor: {} }).toString();

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
        <EventFiltersForm key={filtersKey} value={filters} onApply={handleApply} />
      </section>
      <EventSummaryPanel activeTypes={filters.types} onToggleType={handleToggleType} />
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
