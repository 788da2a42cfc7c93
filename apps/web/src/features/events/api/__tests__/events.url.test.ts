import { describe, expect, it } from 'vitest';
import { EMPTY_FILTERS } from '../events.api';
import { toggleTypeFilter, viewFromSearch, viewToSearch } from '../events.url';

describe('Events page view in the URL', () => {
  it('round-trips filters and cursor through the query string', () => {
    const view = {
      filters: { ...EMPTY_FILTERS, types: ['task.created' as const, 'bid.submitted' as const], agentId: 'persona-echo', taskId: '3f2a9c1e', source: 'coordinator', from: '2026-12-01T10:00:00.000Z', to: '2026-12-02T10:00:00.000Z' },
      cursor: { before: 120 },
    };
    const qs = viewToSearch(view).toString();
    expect(qs).toBe('type=task.created%2Cbid.submitted&agent=persona-echo&task=3f2a9c1e&source=coordinator&from=2026-12-01T10%3A00%3A00.000Z&to=2026-12-02T10%3A00%3A00.000Z&before=120');
    expect(viewFromSearch(new URLSearchParams(qs))).toEqual(view);
    expect(viewToSearch({ filters: EMPTY_FILTERS, cursor: {} }).toString()).toBe('');
    expect(viewFromSearch(new URLSearchParams(''))).toEqual({ filters: { ...EMPTY_FILTERS, from: undefined, to: undefined }, cursor: {} });
  });

  it('drops what a hand-edited link gets wrong instead of failing', () => {
    const v = viewFromSearch(new URLSearchParams('type=task.created,no.such,task.created&from=yesterday&before=-3&after=7&agent=' + 'x'.repeat(300)));
    expect(v.filters.types).toEqual(['task.created']);
    expect(v.filters.from).toBeUndefined();
    expect(v.filters.agentId).toHaveLength(100);
    expect(v.cursor).toEqual({ after: 7 });
  });

  it('a summary chip filters to its type, and clears the filter when it is the only one already', () => {
    const one = toggleTypeFilter({ ...EMPTY_FILTERS, agentId: 'a' }, 'task.failed');
    expect(one).toEqual({ ...EMPTY_FILTERS, agentId: 'a', types: ['task.failed'] });
    expect(toggleTypeFilter(one, 'task.failed').types).toEqual([]);
    expect(toggleTypeFilter({ ...EMPTY_FILTERS, types: ['task.failed', 'task.created'] }, 'task.failed').types).toEqual(['task.failed']);
  });
});
