import { createClient } from 'redis';
import { eventLog } from '../support/event-log';
import { Collector, connectLive, subscribe, type LiveSocket } from '../support/live-client';
import { describeWithRedis, TEST_REDIS_URL } from '../support/services';
import request from 'supertest';
import { createPgDatabase, createUserKey, startTestApp, waitFor, type TestApp } from '../support/test-app';

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

  it('a key revoked on one instance is refused by the other from the moment the revoke returns (REST and sockets)', async () => {
    const created = await request(a.url).post('/api/api-keys').set('authorization', `Bearer ${a.adminKey}`).send({ label: 'cluster', role: 'operator' }).expect(201);
    const key = created.body.key as string;
    const meOnB = () => request(b.url).get('/api/auth/me').set('authorization', `Bearer ${key}`);
    // B resolves and caches the key (CREDENTIAL_CACHE_TTL_MS = 5 s) before the revoke
    await meOnB().expect(200);
    await meOnB().expect(200);
    const live = await connectLive(b.url, key);
    sockets.push(live);
    await request(a.url).delete(`/api/api-keys/${created.body.apiKey.id}`).set('authorization', `Bearer ${a.adminKey}`).expect(200);
    // no wait: the revoke returned only after B acknowledged it
    await meOnB().expect(401);
    await expect(connectLive(b.url, key)).rejects.toThrow(/unauthorized/);
    await waitFor(() => !live.connected, 2000);
  });

  it('a role change on one instance holds on the other at the next request', async () => {
    const username = `clusterdemote${Date.now()}`;
    const key = await createUserKey(a, 'operator', username);
    const users = await request(a.url).get('/api/users').set('authorization', `Bearer ${a.adminKey}`).expect(200);
    const id = users.body.find((u: { username: string }) => u.username === username).id;
    const meOnB = () => request(b.url).get('/api/auth/me').set('authorization', `Bearer ${key}`);
    expect((await meOnB().expect(200)).body.principal.role).toBe('operator');
    await request(a.url).patch(`/api/users/${id}`).set('authorization', `Bearer ${a.adminKey}`).send({ role: 'viewer' }).expect(200);
    expect((await meOnB().expect(200)).body.principal.role).toBe('viewer');
    await request(a.url).patch(`/api/users/${id}`).set('authorization', `Bearer ${a.adminKey}`).send({ disabled: true }).expect(200);
    await meOnB().expect(401);
  });

  it('two deployments on one Redis never see each other\'s events (channels under mc:<epoch>)', async () => {
    const otherPg = await createPgDatabase();
    const other = await startTestApp({ DATABASE_URL: otherPg.url, REDIS_URL });
    try {
      const onOther = await connectLive(other.url, other.adminKey);
      const onB = await connectLive(b.url, b.adminKey);
      sockets.push(onOther, onB);
      const cOther = new Collector().attach(onOther);
      const cB = new Collector().attach(onB);
      expect(await subscribe(onOther, 'system')).toMatchObject({ ok: true });
      expect(await subscribe(onB, 'system')).toMatchObject({ ok: true });
      const ea = eventLog(a.app);
      const eo = eventLog(other.app);
      expect(eo.epoch).not.toBe(ea.epoch);
      const got = (c: Collector, source: string, marker: string) =>
        (c.byChannel.get('system') ?? []).filter((e) => e.source === source && (e.data as { marker?: string }).marker === marker).length;
      await ea.append([{ type: 'system.info', source: 'deployment-a', data: { marker: 'a' } }]);
      await eo.append([{ type: 'system.info', source: 'deployment-other', data: { marker: 'other' } }]);
      // a second event on each side, written after both: once it arrived, anything leaked would have arrived too
      await ea.append([{ type: 'system.info', source: 'deployment-a', data: { marker: 'a2' } }]);
      await eo.append([{ type: 'system.info', source: 'deployment-other', data: { marker: 'other2' } }]);
      await waitFor(() => got(cB, 'deployment-a', 'a2') === 1 && got(cOther, 'deployment-other', 'other2') === 1);
      expect(got(cB, 'deployment-a', 'a')).toBe(1);
      expect(got(cOther, 'deployment-other', 'other')).toBe(1);
      expect((cOther.byChannel.get('system') ?? []).filter((e) => e.source === 'deployment-a')).toEqual([]);
      expect((cB.byChannel.get('system') ?? []).filter((e) => e.source === 'deployment-other')).toEqual([]);
    } finally {
      await other.close();
      await otherPg.drop();
    }
  });
});
