import type { LooseNewEvent as NewEvent } from '../support/event-log';
import { DataSource } from 'typeorm';
import { eventLog, type TestEventLog } from '../support/event-log';
import { createPgDatabase, databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * BRIEF 4.8: commit order = seq order. Several writers at once (on PostgreSQL: three app instances sharing one
 * fresh database, the way a scaled-out deployment runs) while a poller pages through the log with
 * `find({ after: cursor })`. If a lower seq ever became visible after a higher one, the poller's cursor would
 * already be past it and it would never be seen: at the end the poller must have seen every stored seq exactly once.
 */
describe.each(databaseKinds())('event log commit order under concurrent writers (%s)', (db) => {
  const instances: TestApp[] = [];
  let dropPg: (() => Promise<void>) | null = null;

  beforeAll(async () => {
    if (db === 'postgres') {
      const pg = await createPgDatabase();
      dropPg = pg.drop;
      // start one at a time: the first runs the migrations and creates the admin
      for (let i = 0; i < 3; i++) instances.push(await startTestApp({ DATABASE_URL: pg.url }, 'postgres'));
    } else {
      // better-sqlite3 is one writer per file; one instance with many concurrent callers
      instances.push(await startTestApp({}, 'sqlite'));
    }
  });
  afterAll(async () => {
    for (const t of instances) await t.close();
    await dropPg?.();
  });

  it('a cursor poller sees every seq exactly once, with no gaps against the table', async () => {
    const services = instances.map((t) => eventLog(t.app));
    const run = `order-${Date.now()}`;
    const start = await services[0].getHeadSeq();
    const loops = 24;
    const perLoop = 40;
    let writing = true;
    let acknowledged = 0;

    const writer = async (w: number) => {
      const svc = services[w % services.length];
      for (let i = 0; i < perLoop; i++) {
        const ev = (k: number): NewEvent => ({ type: 'tool.called', source: `writer-${w}`, agentId: `w${w}`, data: { run, w, i, k } });
        if (i % 10 === 9) {
          // a big unit: several multi-row INSERT chunks inside one transaction widen the commit window
          const big = Array.from({ length: 450 }, (_, k) => ev(k));
          const stored = await svc.append(big);
          acknowledged += stored.length;
        } else if (i % 7 === 3) {
          // a unit that fails after appending: rolled back, its events must never appear
          await svc
            .write(({ append }) => {
              append(ev(-1));
              throw new Error('rolled back on purpose');
            })
            .catch(() => undefined);
        } else {
          const r = await svc.writeWithEvents(({ append }) => {
            append(ev(0));
            append(ev(1));
          });
          acknowledged += r.events.length;
        }
      }
    };

    const seen: number[] = [];
    const poller = async (svc: TestEventLog) => {
      let cursor = start;
      for (;;) {
        const done = !writing;
        const page = await svc.find({ after: cursor }, 500, 'asc');
        for (const e of page) seen.push(e.seq);
        if (page.length > 0) cursor = page[page.length - 1].seq;
        else if (done) return;
        else await new Promise((r) => setImmediate(r));
      }
    };

    const polling = poller(services[services.length - 1]);
    await Promise.all(Array.from({ length: loops }, (_, w) => writer(w)));
    writing = false;
    await polling;

    const rows: { seq: number | string }[] = await instances[0].app
      .get(DataSource)
      .query(`SELECT seq FROM event_log WHERE seq > ${Number(start)} ORDER BY seq`);
    const table = rows.map((r) => Number(r.seq));
    // every acknowledged event is stored (plus whatever else the app logged meanwhile, e.g. key usage)
    const ours: { n: number | string }[] = await instances[0].app
      .get(DataSource)
      .query(`SELECT COUNT(*) AS n FROM event_log WHERE seq > ${Number(start)} AND type = 'tool.called'`);
    expect(Number(ours[0].n)).toBe(acknowledged);
    expect(acknowledged).toBe(loops * ((perLoop / 10) * 450 + countPairs(perLoop) * 2));
    // rolled-back units left nothing
    const rolledBack: { n: number | string }[] = await instances[0].app
      .get(DataSource)
      .query(`SELECT COUNT(*) AS n FROM event_log WHERE seq > ${Number(start)} AND data LIKE '%"k":-1%'`.replace('data LIKE', db === 'postgres' ? 'data::text LIKE' : 'data LIKE'));
    expect(Number(rolledBack[0].n)).toBe(0);
    // the poller saw each seq once, in increasing order, and exactly the set in the table
    const outOfOrder = seen.filter((s, i) => i > 0 && s <= seen[i - 1]);
    expect(outOfOrder).toEqual([]);
    const seenSet = new Set(seen);
    const missing = table.filter((s) => !seenSet.has(s));
    expect({ missing: missing.length, first: missing.slice(0, 10) }).toEqual({ missing: 0, first: [] });
    expect(seen.length).toBe(table.length);
    expect(seen.every((s, i) => s === table[i])).toBe(true);
  }, 60_000);
});

/** Number of two-event units a writer loop issues (the iterations that are neither big nor failing). */
function countPairs(perLoop: number): number {
  let n = 0;
  for (let i = 0; i < perLoop; i++) if (!(i % 10 === 9) && !(i % 7 === 3)) n++;
  return n;
}
