import type { LooseEnvelope as EventEnvelope, LooseNewEvent as NewEvent } from '../support/event-log';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import request from 'supertest';
import { InternalBus } from '../../src/event-log/internal-bus';
import { eventLog, type TestEventLog } from '../support/event-log';
import { createPgDatabase, databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * Service-level proof of the event spine (BRIEF section 4): group commit, transactional outbox, per-unit
 * rollback, validation, seq order, data as an object, ISO timestamps, publish-after-commit and the epoch.
 */

const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Collects every `event-log.appended` payload (one per committed group) while attached. */
function recordFlushes(bus: InternalBus): { flushes: EventEnvelope[][]; stop(): void } {
  const flushes: EventEnvelope[][] = [];
  const listener = (batch: EventEnvelope[]) => flushes.push(batch);
  const off = bus.on('appended', listener as unknown as (b: unknown) => void);
  return { flushes, stop: off };
}

describe.each(databaseKinds())('event log service (%s)', (db) => {
  let t: TestApp;
  let events: TestEventLog;
  let bus: InternalBus;
  const ph = (i: number) => (db === 'postgres' ? `$${i}` : '?');
  const run = `r${Date.now()}`;

  /** Rows of `meta` whose key starts with `prefix` (test-only state changes live in meta). */
  async function metaKeys(prefix: string): Promise<string[]> {
    const rows: { key: string }[] = await t.app.get(DataSource).query(
      `SELECT "key" FROM meta WHERE "key" LIKE ${ph(1)} ORDER BY "key"`,
      [`${prefix}%`],
    );
    return rows.map((r) => r.key);
  }

  beforeAll(async () => {
    t = await startTestApp({}, db);
    events = eventLog(t.app);
    bus = t.app.get(InternalBus);
  });
  afterAll(() => t.close());

  it('group-commits concurrent writes: N units share fewer than N transactions, seq strictly increasing', async () => {
    const rec = recordFlushes(bus);
    const n = 300;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        events.writeWithEvents(async ({ manager, append }) => {
          await manager.query(`INSERT INTO meta ("key", value) VALUES (${ph(1)}, ${ph(2)})`, [`${run}-gc-${i}`, String(i)]);
          append({ type: 'system.info', source: 'test', data: { run, gc: i } });
          return i;
        }),
      ),
    );
    rec.stop();
    expect(results.map((r) => r.result)).toEqual(Array.from({ length: n }, (_, i) => i));
    const mine = rec.flushes.map((b) => b.filter((e) => (e.data as Record<string, unknown>).run === run && typeof (e.data as Record<string, unknown>).gc === 'number')).filter((b) => b.length);
    // every unit's event was published exactly once, in groups: far fewer groups than units
    expect(mine.flat()).toHaveLength(n);
    expect(mine.length).toBeLessThan(n / 10);
    expect(Math.max(...mine.map((b) => b.length))).toBeGreaterThan(1);
    // seq strictly increasing within and across published groups, and matching what write() resolved with
    const seqs = rec.flushes.flat().map((e) => e.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
    const resolved = results.map((r) => r.events[0].seq);
    expect(new Set(resolved).size).toBe(n);
    expect(await metaKeys(`${run}-gc-`)).toHaveLength(n);
    const stored = await events.find({ types: ['system.info'], source: 'test' }, 5000, 'asc');
    const storedSeqs = stored.map((e) => e.seq);
    for (let i = 1; i < storedSeqs.length; i++) expect(storedSeqs[i]).toBeGreaterThan(storedSeqs[i - 1]);
    expect(new Set(storedSeqs)).toEqual(new Set(stored.filter((e) => e.data.run === run && typeof e.data.gc === 'number').map((e) => e.seq)));
  });

  it('a unit that throws is rolled back alone: its state and its events are gone, the rest of its group commits', async () => {
    const rec = recordFlushes(bus);
    const failing = new Set([3, 17, 29]);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        events.write(async ({ manager, append }) => {
          await manager.query(`INSERT INTO meta ("key", value) VALUES (${ph(1)}, 'x')`, [`${run}-rb-${String(i).padStart(2, '0')}`]);
          append({ type: 'task.created', source: 'test', taskId: `rb-${i}`, data: { run, rb: i } });
          if (failing.has(i)) throw new Error(`unit ${i} fails`);
          return i;
        }),
      ),
    );
    rec.stop();
    outcomes.forEach((o, i) => {
      if (failing.has(i)) {
        expect(o.status).toBe('rejected');
        expect((o as PromiseRejectedResult).reason.message).toBe(`unit ${i} fails`);
      } else {
        expect(o).toEqual({ status: 'fulfilled', value: i });
      }
    });
    const keys = await metaKeys(`${run}-rb-`);
    expect(keys).toHaveLength(37);
    for (const i of failing) expect(keys).not.toContain(`${run}-rb-${String(i).padStart(2, '0')}`);
    const logged = (await events.find({ source: 'test', types: ['task.created'] }, 1000)).filter((e) => e.data.run === run);
    expect(logged.map((e) => e.data.rb).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 40 }, (_, i) => i).filter((i) => !failing.has(i)),
    );
    const published = rec.flushes.flat().filter((e) => (e.data as Record<string, unknown>).run === run && e.type === 'task.created');
    expect(published).toHaveLength(37);
    expect(published.some((e) => failing.has(Number((e.data as Record<string, unknown>).rb)))).toBe(false);
    // the failures really shared a transaction with the survivors: the 40 units needed far fewer than 40 groups
    expect(rec.flushes.filter((b) => b.some((e) => (e.data as Record<string, unknown>).run === run)).length).toBeLessThan(10);
  });

  it('a unit whose SQL fails (PostgreSQL aborts the transaction) is rolled back alone via its savepoint', async () => {
    await events.write(({ manager }) => manager.query(`INSERT INTO meta ("key", value) VALUES (${ph(1)}, 'taken')`, [`${run}-dup`]));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        events.write(async ({ manager, append }) => {
          append({ type: 'system.info', source: 'test', data: { run, sqlfail: i } });
          // units 4 and 9 violate the primary key of meta
          const key = i === 4 || i === 9 ? `${run}-dup` : `${run}-sql-${String(i).padStart(2, '0')}`;
          await manager.query(`INSERT INTO meta ("key", value) VALUES (${ph(1)}, 'x')`, [key]);
          return i;
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i === 4 || i === 9 ? 'rejected' : 'fulfilled')));
    expect(await metaKeys(`${run}-sql-`)).toHaveLength(10);
    const logged = (await events.find({ source: 'test' }, 1000)).filter((e) => e.data.run === run && typeof e.data.sqlfail === 'number');
    expect(logged.map((e) => e.data.sqlfail).sort((a, b) => Number(a) - Number(b))).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 10, 11]);
  });

  it('refuses an event of unknown type (and a non-object data, an over-long source) for that unit only', async () => {
    const bad: NewEvent[] = [
      { type: 'task.exploded' as NewEvent['type'], source: 'test' },
      { type: 'system.info', source: 'test', data: 'a string' as unknown as Record<string, unknown> },
      { type: 'system.info', source: 'test', data: [1, 2] as unknown as Record<string, unknown> },
      { type: 'system.info', source: 'x'.repeat(101) },
      { type: 'system.info', source: '' },
      { type: 'system.info', source: 'test', taskId: 't'.repeat(65) },
    ];
    for (const e of bad) {
      await expect(events.append([e])).rejects.toMatchObject({ code: 'event-log/invalid_event', statusCode: 400 });
    }
    const before = await events.getHeadSeq();
    const outcomes = await Promise.allSettled([
      events.write(({ append }) => append({ type: 'system.info', source: 'test', data: { run, ok: 1 } })),
      ...bad.map((e, i) =>
        events.write(async ({ manager, append }) => {
          await manager.query(`INSERT INTO meta ("key", value) VALUES (${ph(1)}, 'x')`, [`${run}-bad-${i}`]);
          append(e);
        }),
      ),
      events.write(({ append }) => append({ type: 'system.info', source: 'test', data: { run, ok: 2 } })),
    ]);
    expect(outcomes[0].status).toBe('fulfilled');
    expect(outcomes[outcomes.length - 1].status).toBe('fulfilled');
    for (const o of outcomes.slice(1, -1)) {
      expect(o.status).toBe('rejected');
      expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'event-log/invalid_event' });
    }
    expect(await metaKeys(`${run}-bad-`)).toEqual([]);
    const after = await events.find({ after: before }, 100, 'asc');
    expect(after.map((e) => e.data)).toEqual([{ run, ok: 1 }, { run, ok: 2 }]);
  });

  it('data that cannot be stored as JSON (circular, BigInt) fails its own unit, not the whole group', async () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const before = await events.getHeadSeq();
    const outcomes = await Promise.allSettled([
      events.append([{ type: 'system.info', source: 'test', data: { run, json: 'before' } }]),
      events.write(({ append }) => append({ type: 'system.info', source: 'test', data: circular })),
      events.write(({ append }) => append({ type: 'system.info', source: 'test', data: { big: BigInt(1) } })),
      events.append([{ type: 'system.info', source: 'test', data: { run, json: 'after' } }]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'event-log/invalid_event' });
    const after = await events.find({ after: before }, 100, 'asc');
    expect(after.map((e) => e.data.json)).toEqual(['before', 'after']);
  });

  it('stores data as a JSON object (never a string inside a string) and createdAt as ISO-8601 UTC with ms', async () => {
    const data = { run, nested: { list: [1, 'two', { three: 3 }], quote: 'say "hi"', unicode: 'sats ⚡' }, n: 1.5, ok: true, none: null };
    const [e] = await events.append([{ type: 'tool.called', source: 'test', agentId: 'agent-x', taskId: 'task-x', data }]);
    expect(e.data).toEqual(data);
    expect(e.createdAt).toMatch(ISO_MS_UTC);
    expect(Math.abs(Date.parse(e.createdAt) - Date.now())).toBeLessThan(10_000);
    expect(e.channel).toBe('swarm');
    const back = await events.getById(e.id);
    expect(back).toEqual(e);
    expect(typeof back.data).toBe('object');
    const res = await request(t.url).get(`/api/events/${e.id}`).set('authorization', `Bearer ${t.adminKey}`).expect(200);
    expect(res.body).toEqual(e);
    // the raw column holds one level of JSON: parsing it once yields the object
    if (db === 'postgres') {
      const rows: { kind: string }[] = await t.app.get(DataSource).query('SELECT jsonb_typeof(data) AS kind FROM event_log WHERE id = $1', [e.id]);
      expect(rows[0].kind).toBe('object');
    } else {
      const rows: { data: string }[] = await t.app.get(DataSource).query('SELECT data FROM event_log WHERE id = ?', [e.id]);
      expect(JSON.parse(rows[0].data)).toEqual(data);
    }
    // an event without data is stored with {} (never null)
    const [empty] = await events.append([{ type: 'system.info', source: 'test' }]);
    expect((await events.getById(empty.id)).data).toEqual({});
  });

  it('publishes on the bus only after commit: a listener can read the event from a separate connection', async () => {
    const checks: Promise<boolean>[] = [];
    let sqlite: Database.Database | null = null;
    let pg: Client | null = null;
    if (db === 'sqlite') sqlite = new Database(t.config.SQLITE_PATH, { readonly: true, fileMustExist: true });
    else {
      pg = new Client({ connectionString: t.config.DATABASE_URL });
      await pg.connect();
    }
    const listener = (batch: EventEnvelope[]) => {
      for (const e of batch) {
        if (sqlite) {
          // synchronous read on another connection at the moment of the emit: only committed rows are visible
          const row = sqlite.prepare('SELECT seq FROM event_log WHERE id = ?').get(e.id) as { seq: number } | undefined;
          checks.push(Promise.resolve(row?.seq === e.seq));
        } else {
          const prev = checks[checks.length - 1] ?? Promise.resolve(true);
          checks.push(prev.then(() => pg!.query('SELECT seq FROM event_log WHERE id = $1', [e.id])).then((r) => Number(r.rows[0]?.seq) === e.seq));
        }
      }
    };
    const off = bus.on('appended', listener as unknown as (b: unknown) => void);
    try {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => events.write(({ append }) => append({ type: 'system.info', source: 'test', data: { run, visible: i } }))),
      );
      const seen = await Promise.all(checks);
      expect(seen.length).toBeGreaterThanOrEqual(50);
      expect(seen.every(Boolean)).toBe(true);
    } finally {
      off();
      sqlite?.close();
      await pg?.end();
    }
  });

  it('a write issued from inside a unit of work fails fast instead of deadlocking the log', async () => {
    const nested = events.write(async ({ append }) => {
      append({ type: 'system.info', source: 'test', data: { run, outer: true } });
      await events.write(({ append: inner }) => inner({ type: 'system.info', source: 'test', data: { run, inner: true } }));
    });
    await expect(nested).rejects.toMatchObject({ code: 'event-log/nested_write' });
    // the log still accepts writes afterwards
    const [e] = await events.append([{ type: 'system.info', source: 'test', data: { run, afterNested: true } }]);
    expect(e.seq).toBeGreaterThan(0);
  }, 15_000);

  it('an append after the unit returned is refused instead of being silently lost', async () => {
    let late: ((ev: NewEvent) => void) | null = null;
    const r = await events.writeWithEvents(({ append }) => {
      late = append;
      append({ type: 'system.info', source: 'test', data: { run, inTime: true } });
    });
    expect(r.events).toHaveLength(1);
    expect(() => late!({ type: 'system.info', source: 'test', data: { run, late: true } })).toThrow(
      expect.objectContaining({ code: 'event-log/unit_closed' }),
    );
    // a timer armed inside a unit may still write on its own later (it is no longer inside the unit)
    const fromTimer = await new Promise<EventEnvelope[]>((resolve, reject) => {
      void events.write(() => {
        setTimeout(() => events.append([{ type: 'system.info', source: 'test', data: { run, timer: true } }]).then(resolve, reject), 5);
      });
    });
    expect(fromTimer[0].data).toEqual({ run, timer: true });
  });
});

describe.each(databaseKinds())('event log epoch (%s)', (db) => {
  it('is stable across restarts of the same database and different for a new database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-epoch-'));
    const pgDb = db === 'postgres' ? await createPgDatabase() : null;
    const overrides = pgDb ? { DATABASE_URL: pgDb.url } : { SQLITE_PATH: join(dir, 'epoch.db') };
    try {
      const a = await startTestApp(overrides, db);
      const epochA = eventLog(a.app).epoch;
      const [ev] = await eventLog(a.app).append([{ type: 'system.info', source: 'test', data: { epoch: 1 } }]);
      const listA = await request(a.url).get('/api/events?limit=1').set('authorization', `Bearer ${a.adminKey}`).expect(200);
      await a.close();
      expect(epochA).toMatch(/^[0-9a-f-]{36}$/);
      expect(listA.body.epoch).toBe(epochA);

      const b = await startTestApp(overrides, db);
      const svcB = eventLog(b.app);
      expect(svcB.epoch).toBe(epochA);
      expect((await svcB.getById(ev.id)).seq).toBe(ev.seq);
      const [next] = await svcB.append([{ type: 'system.info', source: 'test', data: { epoch: 2 } }]);
      expect(next.seq).toBeGreaterThan(ev.seq);
      await b.close();

      const fresh = await startTestApp({}, db);
      expect(eventLog(fresh.app).epoch).toMatch(/^[0-9a-f-]{36}$/);
      expect(eventLog(fresh.app).epoch).not.toBe(epochA);
      await fresh.close();
    } finally {
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
