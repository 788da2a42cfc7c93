import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { EventEnvelope, MemoryEntryDto, MemorySearchResponse, MemoryStatsDto } from '@app/contracts';
import { applyReindexEvent } from '../../hooks/useMemory';
import { memoryKeys } from '../../api/memory.queries';
import { cleanFilters } from '../../api/memory.api';
import { factTimeline } from '../../timeline';
import { FactsPanel } from '../FactsPanel';
import { MemoryEntryDetail } from '../MemoryEntryDetail';
import { MemorySearchPanel } from '../MemorySearchPanel';
import { MemoryStatsPanel } from '../MemoryStatsPanel';

const PAYLOAD = '<img src=x onerror="window.__pwned=true"><script>window.__pwned=true</script><b>bold</b>';

function entry(over: Partial<MemoryEntryDto> = {}): MemoryEntryDto {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    content: `result ${PAYLOAD}`,
    type: 'task_result',
    source: `Echo ${PAYLOAD}`,
    agentId: 'persona-echo',
    taskId: 'task-1',
    sessionId: null,
    metadata: { note: PAYLOAD },
    createdAt: '2026-01-01T10:00:00.000Z',
    subject: null,
    factKey: null,
    validFrom: null,
    validTo: null,
    supersededBy: null,
    embeddedModels: ['fallback-hash-384'],
    deletedAt: null,
    ...over,
  };
}

function stats(over: Partial<MemoryStatsDto> = {}): MemoryStatsDto {
  return {
    total: 10,
    byType: { conversation: 2, fact: 3, document: 0, task_result: 4, observation: 1 },
    deleted: 1,
    embedded: 5,
    embeddedShare: 0.5,
    queueLag: 5,
    embedder: { kind: 'ollama', model: 'ollama:all-minilm', dimension: 384, state: 'backing_off', lastError: `down ${PAYLOAD}`, retryAt: '2026-01-01T10:00:05.000Z' },
    vectorsByModel: { 'ollama:all-minilm': 5 },
    reindex: null,
    vectorIndex: 'sqlite-vec',
    headSeq: 42,
    epoch: 'e',
    ...over,
  };
}

/** Routes the components' fetches to canned JSON bodies by method + path. */
function mockApi(routes: Record<string, unknown>) {
  const calls: { method: string; url: string; body: unknown }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? 'GET';
      calls.push({ method, url, body: init.body ? JSON.parse(String(init.body)) : undefined });
      const key = `${method} ${url.split('?')[0]}`;
      if (!(key in routes)) return new Response(JSON.stringify({ statusCode: 404, code: 'test/no_route', message: key }), { status: 404, headers: { 'content-type': 'application/json' } });
      return new Response(JSON.stringify(routes[key]), { status: 200, headers: { 'content-type': 'application/json' } });
    }),
  );
  return calls;
}

function wrap(node: ReactNode, qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })) {
  return render(<QueryClientProvider client={qc}>{node}</QueryClientProvider>);
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const noMarkup = (el: HTMLElement) => {
  expect(el.querySelector('img, script, b')).toBeNull();
  expect((window as { __pwned?: boolean }).__pwned).toBeUndefined();
};

describe('MemorySearchPanel', () => {
  it('sends the filters that are set, shows the mode and each hit with its score components, content as text', async () => {
    const res: MemorySearchResponse = {
      mode: 'hybrid',
      model: 'fallback-hash-384',
      degraded: null,
      hits: [{ entry: entry(), score: 1.234, components: { lexical: 1, vector: 0.42, neighbors: 0.1, session: 0, sourceBoost: 1 } }],
    };
    const calls = mockApi({ 'POST /api/memory/search': res });
    const onSelect = vi.fn();
    wrap(<MemorySearchPanel selectedId={null} onSelect={onSelect} />);
    fireEvent.change(screen.getByTestId('memory-query'), { target: { value: 'lightning fees' } });
    fireEvent.change(screen.getByTestId('memory-filter-type'), { target: { value: 'task_result' } });
    fireEvent.change(screen.getByTestId('memory-filter-agent'), { target: { value: 'persona-echo' } });
    fireEvent.change(screen.getByTestId('memory-filter-from'), { target: { value: '2026-01-01T00:00:00' } });
    fireEvent.click(screen.getByTestId('memory-search-submit'));
    const hit = await screen.findByTestId(`memory-hit-${res.hits[0].entry.id}`);
    expect(calls[0].body).toEqual({
      query: 'lightning fees',
      mode: 'hybrid',
      limit: 20,
      filters: { type: 'task_result', agentId: 'persona-echo', from: new Date('2026-01-01T00:00:00').toISOString() },
    });
    expect(screen.getByTestId('memory-search-mode').textContent).toContain('hybrid');
    expect(hit.querySelector('[data-component="lexical"]')!.textContent).toBe('1.00');
    expect(hit.querySelector('[data-component="vector"]')!.textContent).toBe('0.42');
    expect(hit.textContent).toContain(`result ${PAYLOAD}`);
    noMarkup(hit);
    fireEvent.click(hit.querySelector('button')!);
    expect(onSelect).toHaveBeenCalledWith(res.hits[0].entry.id);
  });

  it('says when a weaker mode served the search', async () => {
    mockApi({ 'POST /api/memory/search': { mode: 'lexical', model: null, degraded: 'embedder_unavailable', hits: [] } });
    wrap(<MemorySearchPanel selectedId={null} onSelect={() => undefined} />);
    fireEvent.change(screen.getByTestId('memory-query'), { target: { value: 'x' } });
    fireEvent.click(screen.getByTestId('memory-search-submit'));
    await waitFor(() => expect(screen.getByTestId('memory-search-mode').textContent).toContain('degraded: embedder_unavailable'));
    expect(screen.getByText('Nothing matched.')).toBeTruthy();
  });

  it('shows a 400 from the API as an error', async () => {
    mockApi({});
    wrap(<MemorySearchPanel selectedId={null} onSelect={() => undefined} />);
    fireEvent.change(screen.getByTestId('memory-query'), { target: { value: 'x' } });
    fireEvent.click(screen.getByTestId('memory-search-submit'));
    expect((await screen.findByTestId('memory-search-error')).textContent).toContain('test/no_route');
  });
});

describe('MemoryEntryDetail', () => {
  it('renders content, source and metadata as text; operators get Delete, viewers do not', async () => {
    const e = entry();
    mockApi({ [`GET /api/memory/${e.id}`]: e });
    const { unmount } = wrap(<MemoryEntryDetail id={e.id} canOperate onClose={() => undefined} />);
    const content = await screen.findByTestId('memory-entry-content');
    expect(content.textContent).toBe(e.content);
    noMarkup(screen.getByTestId('memory-entry'));
    expect(screen.getByTestId('memory-entry-delete')).toBeTruthy();
    unmount();
    wrap(<MemoryEntryDetail id={e.id} canOperate={false} onClose={() => undefined} />);
    await screen.findByTestId('memory-entry-content');
    expect(screen.queryByTestId('memory-entry-delete')).toBeNull();
  });
});

describe('FactsPanel', () => {
  const v1 = entry({ id: 'a1111111-1111-4111-8111-111111111111', type: 'fact', subject: 'operator', factKey: 'city', content: 'Lives in Oslo', validFrom: '2026-01-01T00:00:00.000Z', validTo: '2026-02-01T00:00:00.000Z', supersededBy: 'b' });
  const v2 = entry({ id: 'b1111111-1111-4111-8111-111111111111', type: 'fact', subject: 'operator', factKey: 'city', content: `Lives in Bergen ${PAYLOAD}`, validFrom: '2026-02-01T00:00:00.000Z' });

  it('lists valid facts, shows the validity timeline of a subject/key, and lets an operator set a fact', async () => {
    const calls = mockApi({ 'GET /api/memory/facts': [v2], 'GET /api/memory/facts/history': [v1, v2], 'POST /api/memory/facts': v2 });
    wrap(<FactsPanel canOperate onSelectEntry={() => undefined} />);
    const row = await screen.findByTestId('memory-fact-operator-city');
    noMarkup(row);
    fireEvent.click(row.querySelector('button')!);
    await waitFor(() => expect(screen.getAllByTestId('memory-fact-version')).toHaveLength(2));
    const versions = screen.getAllByTestId('memory-fact-version');
    expect(versions.map((v) => v.dataset.open)).toEqual(['false', 'true']);
    expect(versions[1].textContent).toContain('→ now');
    noMarkup(screen.getByTestId('memory-fact-timeline'));
    expect(calls.find((c) => c.url.startsWith('/api/memory/facts/history'))!.url).toBe('/api/memory/facts/history?subject=operator&key=city');
    // the form is preset with the selected subject/key
    fireEvent.change(screen.getByTestId('fact-content'), { target: { value: 'Lives in Tromsø' } });
    fireEvent.click(screen.getByTestId('fact-submit'));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ subject: 'operator', key: 'city', content: 'Lives in Tromsø' });
  });

  it('viewers see facts and timelines but no form', async () => {
    mockApi({ 'GET /api/memory/facts': [v2] });
    wrap(<FactsPanel canOperate={false} onSelectEntry={() => undefined} />);
    await screen.findByTestId('memory-fact-operator-city');
    expect(screen.queryByTestId('memory-fact-form')).toBeNull();
  });
});

describe('MemoryStatsPanel', () => {
  it('shows counts, embedder status (error as text) and the re-embedding progress bar; viewers get no button', async () => {
    mockApi({ 'GET /api/memory/stats': stats({ reindex: { running: true, model: 'ollama:all-minilm', done: 30, total: 120 } }) });
    wrap(<MemoryStatsPanel canOperate={false} />);
    const bar = (await screen.findByTestId('memory-reindex-progress')) as HTMLProgressElement;
    expect([bar.value, bar.max]).toEqual([30, 120]);
    expect(screen.getByTestId('memory-embedder-state').textContent).toBe('backing_off');
    expect(screen.getByTestId('memory-stats-embedded').textContent).toContain('50%');
    noMarkup(screen.getByTestId('memory-stats'));
    expect(screen.queryByTestId('memory-reindex-start')).toBeNull();
  });

  it('moves the bar when a reindex event patches the cached stats', async () => {
    mockApi({ 'GET /api/memory/stats': stats() });
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
    wrap(<MemoryStatsPanel canOperate />, qc);
    await screen.findByTestId('memory-reindex-idle');
    const ev = (type: string, data: Record<string, unknown>) => ({ type, data }) as unknown as EventEnvelope;
    const cached = qc.getQueryData<MemoryStatsDto>(memoryKeys.stats())!;
    qc.setQueryData(memoryKeys.stats(), applyReindexEvent(cached, ev('memory.reindex_progress', { model: 'm', done: 7, total: 10 })));
    const bar = (await screen.findByTestId('memory-reindex-progress')) as HTMLProgressElement;
    expect(bar.value).toBe(7);
    expect((screen.getByTestId('memory-reindex-start') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('helpers', () => {
  it('applyReindexEvent: started/progress/completed patch, other events ask for a refetch', () => {
    const s = stats();
    const ev = (type: string, data: Record<string, unknown>) => ({ type, data }) as unknown as EventEnvelope;
    expect(applyReindexEvent(s, ev('memory.reindex_started', { model: 'm', total: 9 }))!.reindex).toEqual({ running: true, model: 'm', done: 0, total: 9 });
    expect(applyReindexEvent(s, ev('memory.reindex_progress', { model: 'm', done: 3, total: 9 }))!.reindex).toEqual({ running: true, model: 'm', done: 3, total: 9 });
    expect(applyReindexEvent(s, ev('memory.reindex_completed', { model: 'm' }))!.reindex).toBeNull();
    expect(applyReindexEvent(s, ev('memory.stored', {}))).toBeNull();
  });

  it('factTimeline: versions laid out on one axis, the open one running to now', () => {
    const a = entry({ id: 'a', validFrom: '2026-01-01T00:00:00.000Z', validTo: '2026-01-06T00:00:00.000Z' });
    const b = entry({ id: 'b', validFrom: '2026-01-06T00:00:00.000Z' });
    const now = Date.parse('2026-01-11T00:00:00.000Z');
    const t = factTimeline([b, a], now);
    expect(t.segments.map((s) => [s.entry.id, Math.round(s.left), Math.round(s.width), s.open])).toEqual([
      ['a', 0, 50, false],
      ['b', 50, 50, true],
    ]);
    expect(factTimeline([], now).segments).toEqual([]);
  });

  it('cleanFilters drops empty values', () => {
    expect(cleanFilters({ agentId: '', taskId: 't', from: undefined, includeShared: false })).toEqual({ taskId: 't', includeShared: false });
  });
});
