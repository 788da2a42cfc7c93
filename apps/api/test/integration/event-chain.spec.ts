import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ensureBuilt } from '../support/server-process';
import { GENESIS_HASH } from '../../src/event-log/hash-chain/event-hash';
import { eventLog, type TestEventLog } from '../support/event-log';
import { as } from '../support/swarm-helpers';
import { createUserKey, databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 7, section 4: each `event_log` row carries `hash = sha256(previous hash || canonical row)`, computed in seq
 * order in the group commit; `GET /api/events/verify` recomputes it and names the first break; retention records
 * the hash at the new oldest row; the head hash is on `/api/health`.
 */
describe.each(databaseKinds())('event hash chain (%s)', (db) => {
  let t: TestApp;
  let log: TestEventLog;
  let ds: DataSource;
  const ph = (i: number) => (db === 'postgres' ? `$${i}` : '?');

  beforeAll(async () => {
    t = await startTestApp({ EVENT_RETENTION_DAYS: 30 }, db);
    log = eventLog(t.app);
    ds = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  it('a log written by many concurrent units verifies; the head hash is exposed on health', async () => {
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        log.write(({ append }) => {
          append({ type: 'tool.called', source: 'chain', data: { i, nested: { b: [1, 2.5, 'x'], a: null } } });
          if (i % 3 === 0) append({ type: 'system.info', source: 'chain', data: { message: 'two in one unit', i } });
        }),
      ),
    );
    const res = await as(t, t.adminKey).get('/api/events/verify').expect(200);
    expect(res.body).toMatchObject({ ok: true, firstBreak: null, baseSeq: 0, baseHash: GENESIS_HASH });
    expect(res.body.checked).toBe(res.body.to - res.body.from + 1);
    expect(res.body.checked).toBeGreaterThanOrEqual(80);
    const health = await as(t, t.adminKey).get('/api/health').expect(200);
    expect(health.body.headHash).toBe(res.body.headHash);
    expect(health.body.headHash).toMatch(/^[0-9a-f]{64}$/);
    const viewer = await createUserKey(t, 'viewer');
    await as(t, viewer).get('/api/events/verify?from=1&to=5').expect(200);
  });

  it('editing one row\'s data in the database is detected at that seq; restoring it heals the chain', async () => {
    const [victim] = await log.append([{ type: 'tool.called', source: 'chain', data: { amount: 10 } }]);
    await log.append([{ type: 'tool.called', source: 'chain', data: { after: true } }]);
    const original = (await ds.query(`SELECT data FROM event_log WHERE seq = ${ph(1)}`, [victim.seq]))[0].data;
    await ds.query(`UPDATE event_log SET data = ${ph(1)} WHERE seq = ${ph(2)}`, [JSON.stringify({ amount: 1_000_000 }), victim.seq]);
    const broken = await as(t, t.adminKey).get('/api/events/verify').expect(200);
    expect(broken.body.ok).toBe(false);
    expect(broken.body.firstBreak.seq).toBe(victim.seq);
    if (db === 'sqlite') {
      // the CLI (`pnpm events:verify`) says the same against the database file, exit code 1
      ensureBuilt();
      const cli = spawnSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli', 'verify-events.js')], {
        env: { PATH: process.env.PATH ?? '', SQLITE_PATH: t.config.SQLITE_PATH },
        encoding: 'utf8',
      });
      expect(cli.status).toBe(1);
      expect(JSON.parse(cli.stdout.trim()).firstBreak.seq).toBe(victim.seq);
    }
    // a range that ends before the edit still verifies
    const before = await as(t, t.adminKey).get(`/api/events/verify?to=${victim.seq - 1}`).expect(200);
    expect(before.body.ok).toBe(true);
    await ds.query(`UPDATE event_log SET data = ${ph(1)} WHERE seq = ${ph(2)}`, [typeof original === 'string' ? original : JSON.stringify(original), victim.seq]);
    expect((await as(t, t.adminKey).get('/api/events/verify').expect(200)).body.ok).toBe(true);
  });

  it('deleting a row from the middle breaks the chain at the next row', async () => {
    const rows = await log.append([1, 2, 3].map((i) => ({ type: 'tool.called' as const, source: 'chain-del', data: { i } })));
    await ds.query(`DELETE FROM event_log WHERE seq = ${ph(1)}`, [rows[1].seq]);
    const res = await as(t, t.adminKey).get('/api/events/verify').expect(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.firstBreak.seq).toBe(rows[2].seq);
    // remove the rest of the damage so the next test starts from a sound chain
    await ds.query(`DELETE FROM event_log WHERE seq >= ${ph(1)}`, [rows[2].seq]);
    expect((await as(t, t.adminKey).get('/api/events/verify').expect(200)).body.ok).toBe(true);
  });

  it('after retention prunes a prefix, verification starts from the recorded hash and still passes', async () => {
    const old = new Date(Date.now() - 90 * 86_400_000).toISOString();
    const [{ last }] = await ds.query(`SELECT MAX(seq) AS last FROM event_log WHERE source = 'chain'`);
    await ds.query(`UPDATE event_log SET "createdAt" = ${ph(1)} WHERE seq <= ${ph(2)}`, [old, Number(last)]);
    // the edit of createdAt above is itself tampering: the chain must say so before the prune...
    expect((await as(t, t.adminKey).get('/api/events/verify').expect(200)).body.ok).toBe(false);
    const deleted = await log.prune(new Date(Date.now() - 30 * 86_400_000).toISOString());
    expect(deleted).toBeGreaterThan(0);
    // ...and after the tampered prefix is gone, the rest verifies from the hash recorded for the last pruned row
    await log.append([{ type: 'tool.called', source: 'chain', data: { afterPrune: true } }]);
    const res = await as(t, t.adminKey).get('/api/events/verify').expect(200);
    expect(res.body.baseSeq).toBe(await log.getPrunedThroughSeq());
    expect(res.body.baseHash).not.toBe(GENESIS_HASH);
    expect(res.body).toMatchObject({ ok: true, firstBreak: null });
    expect(res.body.from).toBe(res.body.baseSeq + 1);
  });

  it('bad ranges are 400 and change nothing', async () => {
    for (const q of ['from=0', 'from=abc', 'to=-1', 'from=10&to=2', 'from=1e20']) {
      const r = await as(t, t.adminKey).get(`/api/events/verify?${q}`).expect(400);
      expect(typeof r.body.code).toBe('string');
      expect(r.body.message).toBeTruthy();
    }
    await as(t, '').get('/api/events/verify').expect(401);
  });
});
