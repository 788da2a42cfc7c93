import { DataSource } from 'typeorm';
import { eventLog, type TestEventLog } from '../support/event-log';
import { databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 11, appendix finding 1: on PostgreSQL one unit whose event data PostgreSQL cannot store (a NUL, a lone
 * surrogate: jsonb refuses both) failed every other unit of its group commit, because all units' events are
 * inserted in one statement after the units' savepoints are released. A unit that fails must fail alone, on both
 * databases: such data is refused when the unit appends it (its savepoint rolls back), and a batch whose commit
 * fails anyway is retried unit by unit so only the failing unit is rejected.
 */
describe.each(databaseKinds())('group commit isolation (%s)', (db) => {
  let t: TestApp;
  let log: TestEventLog;
  beforeAll(async () => {
    t = await startTestApp({}, db);
    log = eventLog(t.app);
  });
  afterAll(() => t?.close());

  const valid = (i: number) => log.append([{ type: 'system.info', source: 'iso', data: { i } }]);
  const validUnit = (i: number) =>
    log.write(async ({ manager, append }) => {
      await manager.query(db === 'postgres' ? 'SELECT 1' : 'SELECT 1');
      append({ type: 'system.info', source: 'iso-unit', data: { i } });
      return i;
    });

  it.each([
    ['a NUL in a value', { x: '\u0000' }],
    ['a NUL in a key', { 'a\u0000': 1 }],
    ['a lone high surrogate', { x: 'x\ud800' }],
    ['a lone low surrogate', { x: '\udc00y' }],
    ['a nested NUL', { a: [{ b: 'ok' }, { c: 'no\u0000' }] }],
  ])('an event with %s is refused alone; 16 valid units in the same tick commit', async (_n, data) => {
    const before = await log.getHeadSeq();
    const results = await Promise.allSettled([
      ...Array.from({ length: 8 }, (_, i) => valid(i)),
      log.append([{ type: 'system.info', source: 'iso-bad', data }]),
      log.write(async ({ append }) => append({ type: 'system.info', source: 'iso-bad-unit', data })),
      ...Array.from({ length: 8 }, (_, i) => validUnit(i)),
    ]);
    const rejected = results.map((r, i) => [r.status, i] as const).filter(([s]) => s === 'rejected').map(([, i]) => i);
    expect(rejected).toEqual([8, 9]);
    for (const i of [8, 9]) {
      const reason = (results[i] as PromiseRejectedResult).reason as { code?: string; statusCode?: number };
      expect(reason).toMatchObject({ code: 'event-log/invalid_event', statusCode: 400 });
    }
    const rows: { n: string | number }[] = await t.app.get(DataSource).query(`SELECT COUNT(*) AS n FROM event_log WHERE seq > ${before} AND source LIKE 'iso%'`);
    expect(Number(rows[0].n)).toBe(16);
  });

  it('a valid surrogate pair and text that merely looks like an escape are stored', async () => {
    const [e] = await log.append([{ type: 'system.info', source: 'iso', data: { emoji: '😀', literal: '\\u0000 is not a NUL' } }]);
    expect((await log.getById(e.id)).data).toEqual({ emoji: '😀', literal: '\\u0000 is not a NUL' });
  });
});

describe.each(databaseKinds())('group commit: a unit failing at COMMIT fails alone (%s)', (db) => {
  let t: TestApp;
  let log: TestEventLog;
  beforeAll(async () => {
    t = await startTestApp({}, db);
    log = eventLog(t.app);
    const ds = t.app.get(DataSource);
    if (db === 'sqlite') await ds.query('PRAGMA foreign_keys = ON');
    await ds.query('CREATE TABLE iso_parent (id INTEGER PRIMARY KEY)');
    // checked at COMMIT, after every unit's savepoint was released: the shared part of the group commit fails
    await ds.query('CREATE TABLE iso_child (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES iso_parent(id) DEFERRABLE INITIALLY DEFERRED)');
  });
  afterAll(() => t?.close());

  it('the other units of the tick are retried one by one and commit; the failing one is rejected', async () => {
    const ds = t.app.get(DataSource);
    const child = (id: number, pid: number) =>
      log.write(async ({ manager, append }) => {
        await manager.query(db === 'postgres' ? 'INSERT INTO iso_child (id, pid) VALUES ($1, $2)' : 'INSERT INTO iso_child (id, pid) VALUES (?, ?)', [id, pid]);
        append({ type: 'system.info', source: 'iso-commit', data: { id } });
        return id;
      });
    await ds.query('INSERT INTO iso_parent (id) VALUES (1)');
    const results = await Promise.allSettled([child(1, 1), child(2, 1), child(3, 999), child(4, 1), log.append([{ type: 'system.info', source: 'iso-commit', data: { plain: true } }])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const rows: { id: number }[] = await ds.query('SELECT id FROM iso_child ORDER BY id');
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2, 4]);
    const events: { n: string | number }[] = await ds.query(`SELECT COUNT(*) AS n FROM event_log WHERE source = 'iso-commit'`);
    expect(Number(events[0].n)).toBe(4);
  });
});
