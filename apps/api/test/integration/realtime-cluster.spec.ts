import { createClient } from 'redis';
import { eventLog } from '../support/event-log';
import { Collector, connectLive, subscribe, type LiveSocket } from '../support/live-client';
import { describeWithRedis, TEST_REDIS_URL } from '../support/services';
import { createPgDatabase, startTestApp, waitFor, type TestApp } from '../support/test-app';

const REDIS_URL = TEST_REDIS_URL;

/**
 * Scale-out: two API instances share one PostgreSQL database and fan events out through the Socket.IO Redis
 * adapter. A subscriber on either instance receives what the other appends; a revoked key is dropped everywhere.
 */
describeWithRedis('realtime across instances (PostgreSQL + Redis adapter)', () => {
  let pg: { url: string; drop(): Promise<void> };
  let a: TestApp;
  let b: TestApp;
  const sockets: LiveSocket[] = [];

  beforeAll(async () => {
    const redis = createClient({ url: REDIS_URL });
    await redis.connect(); // reachable (describeWithRedis probed it): a failure here is a real error
    await redis.quit();
    pg = await createPgDatabase();
    a = await startTestApp({ DATABASE_URL: pg.url, REDIS_URL });
    b = await startTestApp({ DATABASE_URL: pg.url, REDIS_URL });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await b?.close();
    await a?.close();
    await pg?.drop();
  });

  it('delivers events written on one instance to subscribers of the other, none lost', async () => {
    const onB = await connectLive(b.url, a.adminKey);
    const onA = await connectLive(a.url, b.adminKey);
    sockets.push(onA, onB);
    const cb = new Collector().attach(onB);
    const ca = new Collector().attach(onA);
    expect(await subscribe(onB, 'system')).toMatchObject({ ok: true });
    expect(await subscribe(onA, 'system')).toMatchObject({ ok: true });
    const ea = eventLog(a.app);
    const eb = eventLog(b.app);
    expect(ea.epoch).toBe(eb.epoch);
    const written = (
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? ea : eb).append([{ type: 'system.info', source: 'cluster', data: { i } }])),
      )
    )
      .flat()
      .map((e) => e.seq)
      .sort((x, y) => x - y);
    const uniq = (xs: number[]) => [...new Set(xs)].sort((x, y) => x - y);
    await waitFor(() => uniq(cb.seqs('system')).length >= 200 && uniq(ca.seqs('system')).length >= 200);
    expect(uniq(cb.seqs('system'))).toEqual(written);
    expect(uniq(ca.seqs('system'))).toEqual(written);
  });

  it('replays from the shared log on the other instance after a reconnect', async () => {
    const ea = eventLog(a.app);
    const since = await ea.getHeadSeq();
    await ea.append(Array.from({ length: 20 }, (_, i) => ({ type: 'system.info' as const, source: 'cluster', data: { i } })));
    const s = await connectLive(b.url, b.adminKey);
    sockets.push(s);
    const c = new Collector().attach(s);
    const ack = await subscribe(s, 'all', since, ea.epoch);
    expect(ack).toMatchObject({ ok: true, gap: false, replayed: 20 });
    expect(c.seqs('all')).toEqual(Array.from({ length: 20 }, (_, i) => since + 1 + i));
  });
});
