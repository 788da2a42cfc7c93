import type { EventPage, EventSummary, EventType } from '@app/contracts';
import { api, buildQuery } from '../../../lib/api-client';

/** Filters of the Events page (and the export links). Times are ISO strings. */
export interface EventFilters {
  types: EventType[];
  agentId: string;
  taskId: string;
  source: string;
  from?: string;
  to?: string;
  /** Types left out (server side, `excludeType`): the activity feed's scheduled types. */
  excludeTypes?: EventType[];
}

export const EMPTY_FILTERS: EventFilters = { types: [], agentId: '', taskId: '', source: '' };

/** Cursor of a page: newest page (none), older than `before`, or newer than `after`. */
export type EventCursor = { before?: number; after?: number };

function filterParams(f: EventFilters) {
  return { type: f.types, excludeType: f.excludeTypes, agentId: f.agentId.trim(), taskId: f.taskId.trim(), source: f.source.trim(), from: f.from, to: f.to };
}

/** GET /api/events: newest first (with `after`, the server returns oldest first; we re-sort newest first). */
export async function fetchEvents(filters: EventFilters, cursor: EventCursor = {}, limit = 50): Promise<EventPage> {
  const page = await api.get<EventPage>('/api/events', { ...filterParams(filters), ...cursor, limit });
  return { ...page, items: [...page.items].sort((a, b) => b.seq - a.seq) };
}

/** GET /api/events/summary: counts per type over the last `minutes`. */
export function fetchEventSummary(minutes = 60): Promise<EventSummary> {
  return api.get<EventSummary>('/api/events/summary', { minutes });
}

/** Same-origin link to the export endpoint with the same filters (the session cookie authenticates the GET). */
export function exportUrl(filters: EventFilters, format: 'ndjson' | 'csv'): string {
  return `/api/events/export${buildQuery({ ...filterParams(filters), format })}`;
}
