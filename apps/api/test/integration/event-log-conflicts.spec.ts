import { DataSource } from 'typeorm';
import { EventLogWriter } from '../../src/event-log/event-log.writer';
import { eventLog } from '../support/event-log';
import { createPgDatabase, startTestApp, type TestApp } from '../support/test-app';

/**
 * Two instances whose units of work lock the same rows in opposite orders (as ledger transfers do: a payment locks
 * treasury then node, a settle node then treasury) deadlock on PostgreSQL; the database aborts one of them
 * (40P01). The writer re-runs the losing unit in a fresh transaction, so both writes commit, each exactly once, with
 * their events, and neither caller sees an error. (Found by ledger-cluster.spec: 500s on concurrent settles.)
 */
describe('event-log writer: a unit that loses a deadlock is re-run (PostgreSQL)', () => {
  let pg: { url: string; drop(): Promise<void> };
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    pg = await createPgDatabase();
    a = await startTestApp({ DATABASE_URL: pg.url, SPAWN_PERSONAS: '' }, 'postgres');
    b = await startTestApp({ DATABASE_URL: pg.url, SPAWN_PERSONAS: '' }, 'postgres');
    await a.app.get(DataSource).query(`INSERT INTO meta (key, value) VALUES ('lock-x', '0'), ('lock-y', '0')`);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await pg?.drop();
  });

  it('opposite lock orders on two instances: both units commit once, with their events', async () => {
    let bothLocked!: () => void;
    const barrier = new Promise<void>((r) => (bothLocked = r));
    let holding = 0;
    const runs = { a: 0, b: 0 };
    const bump = (key: string) => `UPDATE meta SET value = CAST(CAST(value AS integer) + 1 AS text) WHERE key = '${key}'`;
    const unit = (who: 'a' | 'b', first: string, second: string) => async (tx: Parameters<Parameters<EventLogWriter['write']>[0]>[0]) => {
      runs[who]++;
      await tx.manager.query(bump(first));
      if (++holding === 2) bothLocked();
      await barrier; // each holds its first row while asking for the other's: a cycle PostgreSQL breaks by aborting one
      await tx.manager.query(bump(second));
      tx.append({ type: 'system.info', source: 'test', data: { message: `locked ${first} then ${second}`, who } });
      return who;
    };
    const results = await Promise.all([
      a.app.get(EventLogWriter).write(unit('a', 'lock-x', 'lock-y')),
      b.app.get(EventLogWriter).write(unit('b', 'lock-y', 'lock-x')),
    ]);
    expect(results).toEqual(['a', 'b']);
    // one of them lost the deadlock and ran again
    expect(runs.a + runs.b).toBeGreaterThanOrEqual(3);
    const rows: { key: string; value: string }[] = await a.app.get(DataSource).query(`SELECT key, value FROM meta WHERE key IN ('lock-x', 'lock-y') ORDER BY key`);
    expect(rows).toEqual([
      { key: 'lock-x', value: '2' },
      { key: 'lock-y', value: '2' },
    ]);
    const events = (await eventLog(a.app).find({ types: ['system.info'] }, 100)).filter((e) => e.source === 'test');
    expect(events.map((e) => e.data.who).sort()).toEqual(['a', 'b']);
  }, 60_000);
});
