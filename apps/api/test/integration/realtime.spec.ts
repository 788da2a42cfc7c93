import request from 'supertest';
import { eventLog, type TestEventLog } from '../support/event-log';
import { RealtimeGateway } from '../../src/realtime/realtime.gateway';
import { Collector, connectLive, subscribe, type LiveSocket } from '../support/live-client';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

const info = (i: number) => ({ type: 'system.info' as const, source: 'test', data: { i } });

describe.each(databaseKinds())('realtime gateway (%s)', (db) => {
  let t: TestApp;
  let events: TestEventLog;
  const sockets: LiveSocket[] = [];
  const open = async (token: string | undefined) => {
    const s = await connectLive(t.url, token);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    t = await startTestApp({ REPLAY_MAX_EVENTS: 3000, SOCKET_MAX_BUFFERED_FRAMES: 16, MOBILE_DIGEST_MS: 100 }, db);
    events = eventLog(t.app);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(() => t.close());

  it('refuses a handshake without a token, with a bad token, and drops a revoked key', async () => {
    await expect(connectLive(t.url, undefined)).rejects.toThrow(/unauthorized/);
    await expect(connectLive(t.url, 'mck_not-a-key')).rejects.toThrow(/unauthorized/);
    const created = await request(t.url).post('/api/api-keys').set('authorization', `Bearer ${t.adminKey}`).send({ label: 'ws', role: 'operator' }).expect(201);
    const s = await open(created.body.key);
    const gone = new Promise<string>((r) => s.once('disconnect', r));
    await request(t.url).delete(`/api/api-keys/${created.body.apiKey.id}`).set('authorization', `Bearer ${t.adminKey}`).expect(200);
    expect(await gone).toBe('io server disconnect');
    await expect(connectLive(t.url, created.body.key)).rejects.toThrow(/unauthorized/);
  });

  it('keeps viewers out of operator-only channels and rejects malformed subscribes', async () => {
    const viewer = await open(await createUserKey(t, 'viewer'));
    expect(await subscribe(viewer, 'ledger')).toMatchObject({ ok: false, code: 'realtime/forbidden' });
    expect(await subscribe(viewer, 'security')).toMatchObject({ ok: false, code: 'realtime/forbidden' });
    expect(await subscribe(viewer, 'swarm')).toMatchObject({ ok: true, gap: false });
    for (const bad of [null, 42, 'x', { channel: 'nope' }, { channel: 'all', since: -1 }, { channel: 'all', since: 1.5 }, { channel: 'all', epoch: 7 }]) {
      const ack = await viewer.timeout(5000).emitWithAck('subscribe', bad as never);
      expect(ack.ok).toBe(false);
    }
  });

  it('delivers live events in seq order, coalesced into few frames', async () => {
    const s = await open(t.adminKey);
    const c = new Collector().attach(s);
    await subscribe(s, 'system');
    const appended = await Promise.all(Array.from({ length: 500 }, (_, i) => events.append([info(i)])));
    const expected = appended.flat().map((e) => e.seq);
    await waitFor(() => c.seqs('system').length >= 500);
    expect(c.seqs('system')).toEqual(expected);
    expect(c.frames).toBeLessThan(50);
  });

  it('a client that drops mid-stream and resubscribes with its last seq gets every event exactly once, in order', async () => {
    const head0 = await events.getHeadSeq();
    const received: number[] = [];
    let last = head0;
    const track = (s: LiveSocket) =>
      s.on('events', (evs, channel) => {
        if (channel !== 'all') return;
        for (const e of evs) {
          if (e.seq > last) {
            received.push(e.seq);
            last = e.seq;
          }
        }
      });
    let s = await open(t.adminKey);
    track(s);
    await subscribe(s, 'all', head0);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 4000; i++) {
        await events.append([info(i)]);
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await waitFor(() => received.length > 300);
    s.close();
    await new Promise((r) => setTimeout(r, 150));
    s = await open(t.adminKey);
    track(s);
    const ack = await subscribe(s, 'all', last, events.epoch);
    expect(ack).toMatchObject({ ok: true, gap: false });
    expect((ack as { replayed: number }).replayed).toBeGreaterThan(0);
    writing = false;
    await writer;
    const head = await events.getHeadSeq();
    await waitFor(() => last >= head);
    const all = (await events.find({ after: head0 }, 5000, 'asc')).map((e) => e.seq);
    expect(received).toEqual(all);
  });

  it('answers gap for another epoch, a pruned cursor, and a cursor too far behind', async () => {
    const s = await open(t.adminKey);
    expect(await subscribe(s, 'all', 1, 'another-epoch')).toMatchObject({ ok: true, gap: true, replayed: 0 });
    const head = await events.getHeadSeq();
    expect(await subscribe(s, 'all', head + 1000)).toMatchObject({ gap: true });
    await Promise.all(Array.from({ length: 3100 }, (_, i) => events.append([info(i)])));
    expect(await subscribe(s, 'system', head)).toMatchObject({ ok: true, gap: true, replayed: 0 });
    await events.prune(new Date(Date.now() + 60_000).toISOString());
    expect(await subscribe(s, 'all', 1)).toMatchObject({ gap: true });
  });

  it('sheds a client that stops reading instead of buffering without bound, and tells it to resync', async () => {
    const gw = t.app.get(RealtimeGateway);
    const slow = await open(t.adminKey);
    const c = new Collector().attach(slow);
    await subscribe(slow, 'all');
    const tcp = (slow.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws._socket;
    tcp.pause();
    const before = gw.stats.slowConsumers;
    const payload = 'x'.repeat(2000);
    for (let round = 0; round < 60 && gw.stats.slowConsumers === before; round++) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => events.append([{ ...info(i), data: { payload } }])));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(gw.stats.slowConsumers).toBeGreaterThan(before);
    const serverSocket = [...(gw as unknown as { nsp: { sockets: Map<string, { conn: { writeBuffer: unknown[] } }> } }).nsp.sockets.values()];
    for (const ss of serverSocket) expect(ss.conn.writeBuffer.length).toBeLessThanOrEqual(t.config.SOCKET_MAX_BUFFERED_FRAMES + 4);
    // more events do not pile up for the shed client: it left its rooms
    await Promise.all(Array.from({ length: 500 }, (_, i) => events.append([{ ...info(i), data: { payload } }])));
    for (const ss of serverSocket) expect(ss.conn.writeBuffer.length).toBeLessThanOrEqual(t.config.SOCKET_MAX_BUFFERED_FRAMES + 4);
    tcp.resume();
    await waitFor(() => c.gaps.length > 0);
    expect(c.gaps[0]).toMatchObject({ reason: 'slow_consumer', channels: ['all'] });
  });

  it('sends a conflated digest on the mobile channel', async () => {
    const s = await open(t.adminKey);
    const c = new Collector().attach(s);
    await subscribe(s, 'mobile');
    const taskId = 'digest-task';
    await events.append([
      { type: 'task.created', source: 'test', taskId, data: { description: 'x' } },
      { type: 'task.assigned', source: 'test', taskId, data: {} },
      { type: 'task.completed', source: 'test', taskId, data: {} },
      { type: 'bid.submitted', source: 'test', taskId, data: { bidSats: 3 } },
    ]);
    await waitFor(() => (c.byChannel.get('mobile') ?? []).length > 0);
    await new Promise((r) => setTimeout(r, 250));
    const got = c.byChannel.get('mobile')!.filter((e) => e.taskId === taskId);
    expect(got.map((e) => e.type)).toEqual(['task.completed']);
  });
});
