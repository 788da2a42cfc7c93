import type { ClientToServerEvents, EventEnvelope, ServerToClientEvents, SubscribeAck } from '@app/contracts';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { ConnectionLimiter } from '../../src/realtime/connection-limits';
import { RealtimeGateway } from '../../src/realtime/realtime.gateway';
import { eventLog, type TestEventLog } from '../support/event-log';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * Edge controls of the realtime feed (issue 11, section 5): per-IP handshake rate limit and concurrent-socket caps
 * per principal and per IP with a clear `connect_error` reason; `subscribe { types }` live and in replay with the seq
 * cursor unchanged; a client that can only long-poll keeps the exactly-once, in-order guarantee across reconnects.
 */
type Live = Socket<ServerToClientEvents, ClientToServerEvents>;
type Refusal = Error & { data?: { code: string; message: string } };

function connect(url: string, token: string | undefined, transports: ('websocket' | 'polling')[] = ['websocket']): Promise<Live> {
  const s: Live = io(`${url}/live`, { auth: token === undefined ? {} : { token }, transports, reconnection: false, forceNew: true, upgrade: transports.length > 1 });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      s.close();
      reject(err);
    });
  });
}
const refusal = (p: Promise<Live>) =>
  p.then(
    (s) => {
      s.close();
      throw new Error('connected, expected a refusal');
    },
    (err: Refusal) => err,
  );
const subscribe = (s: Live, req: { channel: string; since?: number; epoch?: string; types?: string[] }): Promise<SubscribeAck> =>
  s.timeout(10_000).emitWithAck('subscribe', req as never);
const info = (i: number) => ({ type: 'system.info' as const, source: 'edge', data: { i } });
const warning = (i: number) => ({ type: 'system.warning' as const, source: 'edge', data: { message: `w${i}`, i } });

describe('realtime connection limits', () => {
  let t: TestApp;
  const open: Live[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.close();
    await t?.close();
  });
  const key = async (role: string) =>
    (await request(t.url).post('/api/api-keys').set('authorization', `Bearer ${t.adminKey}`).send({ label: `edge-${role}-${Math.random()}`, role }).expect(201)).body.key as string;

  it('caps concurrent sockets per principal and per IP, with a clear connect_error reason, and frees slots on disconnect', async () => {
    t = await startTestApp({ REALTIME_MAX_SOCKETS_PER_PRINCIPAL: 3, REALTIME_MAX_SOCKETS_PER_IP: 5, REALTIME_HANDSHAKES_PER_IP: 0 });
    const gw = t.app.get(RealtimeGateway);
    for (let i = 0; i < 3; i++) open.push(await connect(t.url, t.adminKey));
    const past = await refusal(connect(t.url, t.adminKey));
    expect(past.message).toBe('realtime/too_many_connections');
    expect(past.data).toEqual({ code: 'realtime/too_many_connections', message: expect.stringContaining('REALTIME_MAX_SOCKETS_PER_PRINCIPAL=3') });
    // a closed socket gives its slot back
    const first = open.shift()!;
    first.close();
    await waitFor(() => gw.limiter.openFrom('127.0.0.1') === 2);
    open.push(await connect(t.url, t.adminKey));
    // per IP: another principal may open 2 more (5 from 127.0.0.1), the next is refused naming the IP cap
    const other = await key('operator');
    open.push(await connect(t.url, other), await connect(t.url, other));
    const ipCap = await refusal(connect(t.url, await key('viewer')));
    expect(ipCap.data).toEqual({ code: 'realtime/too_many_connections', message: expect.stringContaining('REALTIME_MAX_SOCKETS_PER_IP=5') });
    // a refused handshake took no slot
    expect(gw.limiter.openFrom('127.0.0.1')).toBe(5);
    expect(gw.stats.limitedHandshakes).toBe(2);
  });

  it('rate-limits handshakes per IP (valid or not) and says when to retry', async () => {
    t = await startTestApp({ REALTIME_HANDSHAKES_PER_IP: 5, REALTIME_HANDSHAKE_WINDOW_MS: 60_000, REALTIME_MAX_SOCKETS_PER_PRINCIPAL: 0, REALTIME_MAX_SOCKETS_PER_IP: 0 });
    for (let i = 0; i < 3; i++) (await connect(t.url, t.adminKey)).close();
    await expect(connect(t.url, 'mck_not-a-key')).rejects.toThrow('unauthorized');
    await expect(connect(t.url, undefined)).rejects.toThrow('unauthorized');
    const limited = await refusal(connect(t.url, t.adminKey));
    expect(limited.message).toBe('realtime/rate_limited');
    expect(limited.data).toEqual({ code: 'realtime/rate_limited', message: expect.stringMatching(/more than 5 connection attempts .*retry in \d+ s/) });
    // the REST API is not affected by the realtime limit
    await request(t.url).get('/api/auth/me').set('authorization', `Bearer ${t.adminKey}`).expect(200);
  });

  it('the limiter counts fixed windows and releases a slot once (unit)', () => {
    let now = 0;
    const l = new ConnectionLimiter({ handshakesPerIp: 2, handshakeWindowMs: 1000, maxSocketsPerPrincipal: 1, maxSocketsPerIp: 0 }, () => now);
    expect(l.admitHandshake('a')).toBeNull();
    expect(l.admitHandshake('a')).toBeNull();
    expect(l.admitHandshake('a')?.code).toBe('realtime/rate_limited');
    expect(l.admitHandshake('b')).toBeNull();
    now = 1000;
    expect(l.admitHandshake('a')).toBeNull();
    const lease = l.acquire('key:1', 'a');
    expect('release' in lease).toBe(true);
    expect((l.acquire('key:1', 'a') as { code: string }).code).toBe('realtime/too_many_connections');
    (lease as { release(): void }).release();
    (lease as { release(): void }).release(); // idempotent
    expect(l.openFor('key:1')).toBe(0);
    expect('release' in l.acquire('key:1', 'a')).toBe(true);
  });
});

describe.each(databaseKinds())('realtime subscribe filters and polling fallback (%s)', (db) => {
  let t: TestApp;
  let events: TestEventLog;
  const open: Live[] = [];
  beforeAll(async () => {
    t = await startTestApp({}, db);
    events = eventLog(t.app);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(() => t?.close());
  const collect = (s: Live) => {
    const got: EventEnvelope[] = [];
    s.on('events', (batch) => got.push(...batch));
    return got;
  };

  it('subscribe { types } delivers only those types, live and in replay, with the seq cursor unchanged', async () => {
    const head = (await events.append([info(-1)]))[0].seq;
    const written = (await Promise.all(Array.from({ length: 60 }, (_, i) => events.append([i % 3 === 0 ? warning(i) : info(i)])))).flat();
    const warnings = written.filter((e) => e.type === 'system.warning').map((e) => e.seq);

    // replay from a cursor: only warnings, in seq order, then live
    const s = await connect(t.url, t.adminKey);
    open.push(s);
    const got = collect(s);
    const ack = await subscribe(s, { channel: 'system', since: head, types: ['system.warning'] });
    expect(ack).toMatchObject({ ok: true, gap: false, replayed: warnings.length, types: ['system.warning'] });
    await waitFor(() => got.length >= warnings.length);
    expect(got.map((e) => e.seq)).toEqual(warnings);
    const live = (await Promise.all(Array.from({ length: 30 }, (_, i) => events.append([i % 2 ? warning(100 + i) : info(100 + i)])))).flat();
    const liveWarnings = live.filter((e) => e.type === 'system.warning').map((e) => e.seq);
    await waitFor(() => got.length >= warnings.length + liveWarnings.length);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.map((e) => e.seq)).toEqual([...warnings, ...liveWarnings]);
    expect(got.every((e) => e.type === 'system.warning')).toBe(true);

    // resume from the last seq received: only what came after, nothing twice, nothing missed
    const last = got[got.length - 1].seq;
    s.close();
    const gone = (await Promise.all(Array.from({ length: 20 }, (_, i) => events.append([i % 4 === 0 ? warning(200 + i) : info(200 + i)])))).flat();
    const s2 = await connect(t.url, t.adminKey);
    open.push(s2);
    const got2 = collect(s2);
    const ack2 = await subscribe(s2, { channel: 'system', since: last, types: ['system.warning'] });
    const missed = gone.filter((e) => e.type === 'system.warning').map((e) => e.seq);
    expect(ack2).toMatchObject({ ok: true, gap: false, replayed: missed.length });
    await waitFor(() => got2.length >= missed.length);
    expect(got2.map((e) => e.seq)).toEqual(missed);

    // subscribing again without types replaces the filter: every type, once (not twice through both rooms)
    const ack3 = await subscribe(s2, { channel: 'system' });
    expect(ack3).toMatchObject({ ok: true });
    expect((ack3 as { types?: string[] }).types).toBeUndefined();
    const after = (await events.append([info(300), warning(301)])).map((e) => e.seq);
    await waitFor(() => got2.length >= missed.length + 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(got2.slice(missed.length).map((e) => e.seq)).toEqual(after);
  });

  it('rejects malformed type filters', async () => {
    const s = await connect(t.url, t.adminKey);
    open.push(s);
    for (const types of [[], ['task.exploded'], 'system.info', [1], Array.from({ length: 51 }, () => 'system.info')]) {
      expect(await subscribe(s, { channel: 'all', types: types as string[] })).toMatchObject({ ok: false, code: 'realtime/bad_request' });
    }
    expect(await subscribe(s, { channel: 'mobile', types: ['task.created'] })).toMatchObject({ ok: false, code: 'realtime/bad_request' });
  });

  it('a long-polling-only client (WebSocket blocked) gets every event exactly once, in order, across reconnects', async () => {
    const seen: number[] = [];
    let cursor = (await events.append([info(-2)]))[0].seq;
    const first = cursor;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 3000; i++) {
        await events.append([info(i)]);
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (let round = 0; round < 4; round++) {
      const s = await connect(t.url, t.adminKey, ['polling']);
      open.push(s);
      expect(s.io.engine.transport.name).toBe('polling');
      s.on('events', (batch) => {
        for (const e of batch) {
          if (e.seq <= cursor) continue; // the client's seq de-duplication
          seen.push(e.seq);
          cursor = e.seq;
        }
      });
      const ack = await subscribe(s, { channel: 'system', since: cursor });
      expect(ack).toMatchObject({ ok: true, gap: false });
      const target = cursor + 20;
      await waitFor(() => cursor >= target, 15_000);
      s.io.engine.close(); // the connection drops (as on a flaky network)
      s.close();
    }
    writing = false;
    await writer;
    // catch up once more and compare with the log
    const s = await connect(t.url, t.adminKey, ['polling']);
    open.push(s);
    s.on('events', (batch) => {
      for (const e of batch) {
        if (e.seq <= cursor) continue;
        seen.push(e.seq);
        cursor = e.seq;
      }
    });
    await subscribe(s, { channel: 'system', since: cursor });
    const head = await events.getHeadSeq();
    await waitFor(() => cursor >= head, 15_000);
    const logged: number[] = [];
    for await (const e of events.iterate({ channels: ['system'], after: first }, 1000)) logged.push(e.seq);
    expect(seen).toEqual(logged.filter((q) => q <= cursor));
    expect(new Set(seen).size).toBe(seen.length);
  });
});
