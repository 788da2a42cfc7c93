import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@app/contracts';
import { RealtimeClient } from '../realtime';
import { FakeSocket } from './fake-socket';

function ev(seq: number, channel = 'swarm'): EventEnvelope {
  return {
    seq,
    id: `id-${seq}`,
    type: 'task.created',
    source: 'test',
    channel: channel as EventEnvelope['channel'],
    taskId: null,
    agentId: null,
    data: { description: `task ${seq}` },
    createdAt: new Date(1_700_000_000_000 + seq).toISOString(),
  } as unknown as EventEnvelope;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup() {
  const socket = new FakeSocket();
  const client = new RealtimeClient(socket);
  const received: number[] = [];
  const gaps: string[] = [];
  return { socket, client, received, gaps };
}

describe('RealtimeClient', () => {
  it('buffers until the snapshot baseline, then delivers only seq > headSeq, in order, once', async () => {
    const { socket, client, received } = setup();
    client.start();
    socket.head = 10;
    socket.serverConnect();
    const sub = client.subscribe('swarm', { onEvents: (es) => received.push(...es.map((e) => e.seq)) });
    await tick();
    expect(socket.subscribes).toEqual([{ channel: 'swarm' }]);
    // Frames arrive before the snapshot: out of order within a frame, duplicated across frames.
    socket.fire('events', [ev(12), ev(11)], 'swarm');
    socket.fire('events', [ev(11), ev(13)], 'swarm');
    expect(received).toEqual([]);
    sub.setBaseline(11, 'epoch-1');
    expect(received).toEqual([12, 13]);
    socket.fire('events', [ev(13), ev(14), ev(14)], 'swarm');
    socket.fire('events', [ev(12)], 'swarm');
    socket.fire('events', [ev(15)], 'other-channel');
    expect(received).toEqual([12, 13, 14]);
    expect(client.getState()).toBe('live');
  });

  it('resubscribes with since + epoch after a reconnect and drops replayed duplicates', async () => {
    const { socket, client, received } = setup();
    const states: string[] = [];
    client.onStateChange(() => states.push(client.getState()));
    client.start();
    expect(client.getState()).toBe('connecting');
    socket.head = 5;
    socket.serverConnect();
    const sub = client.subscribe('all', { onEvents: (es) => received.push(...es.map((e) => e.seq)) });
    sub.setBaseline(5, 'epoch-1');
    await tick();
    socket.fire('events', [ev(6, 'all'), ev(7, 'all')], 'all');
    expect(received).toEqual([6, 7]);

    socket.serverDrop();
    expect(client.getState()).toBe('reconnecting');
    // While down the server logged 8..10; on reconnect it replays from 6 (it does not know what we saw).
    socket.head = 10;
    socket.replay = () => [6, 7, 8, 9, 10].map((s) => ev(s, 'all'));
    socket.serverConnect();
    await tick();
    const last = socket.subscribes[socket.subscribes.length - 1];
    expect(last).toEqual({ channel: 'all', since: 7, epoch: 'epoch-1' });
    // A late duplicate live frame after the replay is ignored too.
    socket.fire('events', [ev(10, 'all'), ev(11, 'all')], 'all');
    expect(received).toEqual([6, 7, 8, 9, 10, 11]);
    expect(client.getState()).toBe('live');
    expect(states).toEqual(['live', 'reconnecting', 'live']);
    expect(client.cursors('all')).toEqual([11]);
  });

  it('on gap: true calls onGap, drops the old cursor, and resumes from the refetched snapshot', async () => {
    const { socket, client, received, gaps } = setup();
    client.start();
    socket.head = 3;
    socket.serverConnect();
    const sub = client.subscribe('swarm', {
      onEvents: (es) => received.push(...es.map((e) => e.seq)),
      onGap: (g) => gaps.push(`${g.reason}:${g.headSeq}:${g.epoch}`),
    });
    sub.setBaseline(3, 'epoch-1');
    await tick();
    socket.fire('events', [ev(4)], 'swarm');
    socket.serverDrop();
    // The log was reset: new epoch, cursor 4 means nothing any more.
    socket.epoch = 'epoch-2';
    socket.head = 2;
    socket.gapFor = (req) => req.epoch !== 'epoch-2';
    socket.serverConnect();
    await tick();
    expect(socket.subscribes[socket.subscribes.length - 1]).toEqual({ channel: 'swarm', since: 4, epoch: 'epoch-1' });
    expect(gaps).toEqual(['ack:2:epoch-2']);
    expect(client.cursors('swarm')).toEqual([null]);
    // Live frames of the new epoch arrive before the snapshot refetch completes: buffered.
    socket.fire('events', [ev(3)], 'swarm');
    socket.fire('events', [ev(4)], 'swarm');
    sub.setBaseline(3, 'epoch-2');
    expect(received).toEqual([4, 4]);
    socket.fire('events', [ev(5)], 'swarm');
    expect(received).toEqual([4, 4, 5]);
    // The next reconnect uses the new epoch and cursor.
    socket.serverDrop();
    socket.serverConnect();
    await tick();
    expect(socket.subscribes[socket.subscribes.length - 1]).toEqual({ channel: 'swarm', since: 5, epoch: 'epoch-2' });
  });

  it('a gap notice resets the listeners and resubscribes the channel', async () => {
    const { socket, client, received, gaps } = setup();
    client.start();
    socket.head = 1;
    socket.serverConnect();
    const sub = client.subscribe('mobile', {
      onEvents: (es) => received.push(...es.map((e) => e.seq)),
      onGap: (g) => gaps.push(g.reason),
    });
    sub.setBaseline(1, 'epoch-1');
    await tick();
    socket.fire('events', [ev(2, 'mobile')], 'mobile');
    const before = socket.subscribes.length;
    socket.head = 50;
    socket.fire('gap', { channels: ['mobile'], reason: 'slow_consumer', headSeq: 50, epoch: 'epoch-1' });
    await tick();
    expect(gaps).toEqual(['slow_consumer']);
    expect(socket.subscribes.length).toBe(before + 1);
    expect(socket.subscribes[before]).toEqual({ channel: 'mobile', epoch: 'epoch-1' });
    sub.setBaseline(50, 'epoch-1');
    socket.fire('events', [ev(49, 'mobile'), ev(51, 'mobile')], 'mobile');
    expect(received).toEqual([2, 51]);
  });

  it('a snapshot older than the live subscription triggers a replay from the snapshot seq', async () => {
    const { socket, client, received } = setup();
    client.start();
    socket.head = 20;
    socket.serverConnect();
    const sub = client.subscribe('questions', { onEvents: (es) => received.push(...es.map((e) => e.seq)) });
    await tick();
    // Subscribed live from 20, but the snapshot was read at 17: 18..20 must come from a replay.
    socket.fire('events', [ev(21, 'questions')], 'questions');
    socket.replay = () => [18, 19, 20, 21].map((s) => ev(s, 'questions'));
    sub.setBaseline(17, 'epoch-1');
    expect(received).toEqual([]);
    await tick();
    expect(socket.subscribes[socket.subscribes.length - 1]).toEqual({ channel: 'questions', since: 17, epoch: 'epoch-1' });
    expect(received).toEqual([18, 19, 20, 21]);
  });

  it('keeps independent cursors per listener and unsubscribes on the server after the last one leaves', async () => {
    const { socket, client } = setup();
    client.start();
    socket.head = 0;
    socket.serverConnect();
    const a: number[] = [];
    const b: number[] = [];
    const subA = client.subscribe('all', { onEvents: (es) => a.push(...es.map((e) => e.seq)) });
    const subB = client.subscribe('all', { onEvents: (es) => b.push(...es.map((e) => e.seq)) });
    subA.setBaseline(0);
    subB.setBaseline(1);
    await tick();
    socket.fire('events', [ev(1, 'all'), ev(2, 'all')], 'all');
    expect(a).toEqual([1, 2]);
    expect(b).toEqual([2]);
    subA.unsubscribe();
    expect(socket.emitted.some((e) => e.event === 'unsubscribe')).toBe(false);
    subB.unsubscribe();
    expect(socket.emitted.filter((e) => e.event === 'unsubscribe').map((e) => e.args[0])).toEqual([{ channel: 'all' }]);
    socket.fire('events', [ev(3, 'all')], 'all');
    expect(a).toEqual([1, 2]);
  });

  it('checkConnection reconnects a dead socket at once and re-syncs a live one', async () => {
    const { socket, client } = setup();
    client.start();
    expect(socket.connectCalls).toBe(1);
    client.checkConnection();
    expect(socket.connectCalls).toBe(2);
    socket.serverConnect();
    const sub = client.subscribe('swarm', { onEvents: () => undefined });
    sub.setBaseline(0, 'epoch-1');
    await tick();
    const n = socket.subscribes.length;
    client.checkConnection();
    await tick();
    expect(socket.subscribes.length).toBe(n + 1);
    expect(socket.subscribes[n]).toEqual({ channel: 'swarm', since: 0, epoch: 'epoch-1' });
  });
});
