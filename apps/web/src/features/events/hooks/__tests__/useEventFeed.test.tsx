import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render, screen } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { EventPage } from '@app/contracts';
import { RealtimeClient } from '../../../../lib/realtime';
import { RealtimeProvider } from '../../../../lib/realtime-react';
import { FakeSocket, envelope } from '../../../../lib/__tests__/fake-socket';
import { FEED_HIDDEN_BY_DEFAULT, useEventFeed } from '../useEventFeed';

function Feed() {
  const { data } = useEventFeed('all', { limit: 50 });
  return (
    <ol data-testid="feed">
      {(data?.items ?? []).map((e) => (
        <li key={e.seq}>{e.seq}</li>
      ))}
    </ol>
  );
}

function FilteredFeed() {
  const { data } = useEventFeed('all', { limit: 50, exclude: FEED_HIDDEN_BY_DEFAULT });
  return (
    <ol data-testid="feed">
      {(data?.items ?? []).map((e) => (
        <li key={e.seq}>{e.seq}</li>
      ))}
    </ol>
  );
}

const seqs = () => Array.from(screen.getByTestId('feed').querySelectorAll('li'), (li) => Number(li.textContent));
const flush = () => act(() => new Promise((r) => setTimeout(r, 0)));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('useEventFeed', () => {
  it('merges the snapshot with live frames: each event once, newest first, across a reconnect', async () => {
    // Snapshot read at headSeq 3; event 4 committed between the head read and the rows read, so it is in both.
    const snapshot: EventPage = { items: [4, 3, 2, 1].map((s) => envelope(s, 'all')), headSeq: 3, epoch: 'epoch-1', nextCursor: null };
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify(snapshot), { status: 200, headers: { 'content-type': 'application/json' } }));
    const socket = new FakeSocket();
    socket.head = 4;
    const client = new RealtimeClient(socket);
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <RealtimeProvider client={client}>
          <Feed />
        </RealtimeProvider>
      </QueryClientProvider>,
    );
    await flush();
    act(() => socket.serverConnect());
    await flush();
    await flush();
    expect(seqs()).toEqual([4, 3, 2, 1]);
    // Live frames: 4 again (already in the snapshot), then new ones, one repeated across frames.
    act(() => socket.fire('events', [envelope(4, 'all'), envelope(5, 'all')], 'all'));
    act(() => socket.fire('events', [envelope(5, 'all'), envelope(6, 'all')], 'all'));
    await flush();
    expect(seqs()).toEqual([6, 5, 4, 3, 2, 1]);
    // Drop and reconnect: the client resubscribes from 6 and the server replays 5..8.
    act(() => socket.serverDrop());
    socket.head = 8;
    socket.replay = () => [5, 6, 7, 8].map((s) => envelope(s, 'all'));
    act(() => socket.serverConnect());
    await flush();
    await flush();
    expect(socket.subscribes[socket.subscribes.length - 1]).toMatchObject({ channel: 'all', since: 6, epoch: 'epoch-1' });
    expect(seqs()).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('keeps router.metrics_flushed out of the activity feed by default: dropped from the snapshot and from live frames', async () => {
    const urls: string[] = [];
    const snapshot: EventPage = { items: [envelope(2, 'all'), envelope(9, 'all', 'router.metrics_flushed'), envelope(1, 'all')], headSeq: 2, epoch: 'epoch-1', nextCursor: null };
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(String(url));
      return new Response(JSON.stringify(snapshot), { status: 200, headers: { 'content-type': 'application/json' } });
    });
    const socket = new FakeSocket();
    socket.head = 2;
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <RealtimeProvider client={new RealtimeClient(socket)}>
          <FilteredFeed />
        </RealtimeProvider>
      </QueryClientProvider>,
    );
    await flush();
    act(() => socket.serverConnect());
    await flush();
    await flush();
    expect(seqs()).toEqual([2, 1]); // the flush in the snapshot is dropped
    // the server leaves the excluded type out (excludeType), so the snapshot reads just `limit` rows
    expect(new URL(urls[0], 'http://x').searchParams.get('excludeType')).toBe('router.metrics_flushed');
    expect(new URL(urls[0], 'http://x').searchParams.get('limit')).toBe('50');
    act(() => socket.fire('events', [envelope(3, 'all', 'router.metrics_flushed'), envelope(4, 'all')], 'all'));
    await flush();
    expect(seqs()).toEqual([4, 2, 1]);
  });
});
