import { isEventType, type EventType } from '@app/contracts';
import { EMPTY_FILTERS, type EventCursor, type EventFilters } from './events.api';

/** The Events page's view (filters and page cursor), as kept in the URL's query string. */
export interface EventsView {
  filters: EventFilters;
  cursor: EventCursor;
}

const ISO_LIKE = (v: string | null): string | undefined => (v && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : undefined);
const SEQ = (v: string | null): number | undefined => (v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined);
const TEXT = (v: string | null, max = 100): string => (v ?? '').slice(0, max);

/**
 * Reads the view from a query string (`?type=a,b&agent=&task=&source=&from=&to=&before=|after=`), so a shared or
 * reloaded link shows the same events. Unknown types, malformed times and cursors are dropped, never thrown.
 */
export function viewFromSearch(params: URLSearchParams): EventsView {
  const types = (params.get('type') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t): t is EventType => isEventType(t));
  const filters: EventFilters = {
    ...EMPTY_FILTERS,
    types: [...new Set(types)],
    agentId: TEXT(params.get('agent')),
    taskId: TEXT(params.get('task')),
    source: TEXT(params.get('source')),
    from: ISO_LIKE(params.get('from')),
    to: ISO_LIKE(params.get('to')),
  };
  const before = SEQ(params.get('before'));
  const after = before === undefined ? SEQ(params.get('after')) : undefined;
  return { filters, cursor: before !== undefined ? { before } : after !== undefined ? { after } : {} };
}

/** Writes the view as a query string (empty fields left out): the inverse of `viewFromSearch`. */
export function viewToSearch({ filters, cursor }: EventsView): URLSearchParams {
  const out = new URLSearchParams();
  if (filters.types.length) out.set('type', filters.types.join(','));
  if (filters.agentId.trim()) out.set('agent', filters.agentId.trim());
  if (filters.taskId.trim()) out.set('task', filters.taskId.trim());
  if (filters.source.trim()) out.set('source', filters.source.trim());
  if (filters.from) out.set('from', filters.from);
  if (filters.to) out.set('to', filters.to);
  if (cursor.before !== undefined) out.set('before', String(cursor.before));
  else if (cursor.after !== undefined) out.set('after', String(cursor.after));
  return out;
}

/** A summary chip's click: show only that type, or clear the type filter when it is the only one shown already. */
export function toggleTypeFilter(filters: EventFilters, type: EventType): EventFilters {
  const only = filters.types.length === 1 && filters.types[0] === type;
  return { ...filters, types: only ? [] : [type] };
}
