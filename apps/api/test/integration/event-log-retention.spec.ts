import type { LooseEnvelope as EventEnvelope } from '../support/event-log';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { PRUNE_CHUNK_ROWS } from '../../src/event-log/event-log.constants';
import { InternalBus } from '../../src/event-log/internal-bus';
import { eventLog, type TestEventLog } from '../support/event-log';
import { EventRetentionService } from '../../src/event-log/retention/event-retention.service';
import { connectLive, subscribe } from '../support/live-client';
import { databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/** Retention (BRIEF 4.7): old events are pruned by the scheduled job, the pruned-through seq is recorded. */
describe.each(databaseKinds())('event retention (%s)', (db) => {
  let t: TestApp;
  let events: TestEventLog;
  const ph = (i: number) => (db === 'postgres' ? `$${i}` : '?');
  const DAY = 86_400_000;

  /** Inserts raw events with a chosen createdAt through the write path (one unit) and returns their seqs. */
  async function insertAt(createdAts: string[], tag: string): Promise<number[]> {
    return events.write(async ({ manager }) => {
      const seqs: number[] = [];
      for (const createdAt of createdAts) {
        const rows: { seq: number | string }[] = await manager.query(
          `INSERT INTO event_log (id, type, source, channel, "taskId", "agentId", data, "createdAt")
           VALUES (${ph(1)}, 'system.info', 'retention-test', 'system', NULL, NULL, ${ph(2)}, ${ph(3)}) RETURNING seq`,
          [randomUUID(), JSON.stringify({ tag }), createdAt],
        );
        seqs.push(Number(rows[0].seq));
      }
      return seqs;
    });
  }

  beforeAll(async () => {
    t = await startTestApp({ EVENT_RETENTION_DAYS: 30 }, db);
    events = eventLog(t.app);
  });
  afterAll(() => t.close());

  it('runOnce deletes events older than EVENT_RETENTION_DAYS, keeps the rest, records pruned_through_seq', async () => {
    const retention = t.app.get(EventRetentionService);
    const now = Date.now();
    const pruned: { prunedThroughSeq: number }[] = [];
    t.app.get(InternalBus).on('pruned', (p) => pruned.push(p));
    // the boot-time events (admin created, key created) are recent; add a prefix of old ones before new ones
    const headBefore = await events.getHeadSeq();
    const old = await insertAt([new Date(now - 90 * DAY).toISOString(), new Date(now - 31 * DAY).toISOString(), new Date(now - 30 * DAY - 60_000).toISOString()], 'old');
    const fresh = await insertAt([new Date(now - 29 * DAY).toISOString(), new Date(now - 1000).toISOString()], 'fresh');
    const [live] = await events.append([{ type: 'system.info', source: 'retention-test', data: { tag: 'live' } }]);
    // the boot-time events have lower seqs but are recent: only a prefix is ever removed, so they stay and so do the old ones above them
    expect(await retention.runOnce(now)).toBe(0);
    expect(await events.getPrunedThroughSeq()).toBe(0);
    // remove the recent boot events so the old ones form the prefix (as they would in a long-running log)
    await events.write(({ manager }) => manager.query(`DELETE FROM event_log WHERE seq <= ${ph(1)}`, [headBefore]));

    const n = await retention.runOnce(now);
    expect(n).toBe(3);
    for (const s of old) expect(await events.find({ after: s - 1, before: s + 1 }, 10)).toEqual([]);
    const kept = await events.find({ source: 'retention-test' }, 100, 'asc');
    expect(kept.map((e) => e.seq)).toEqual([...fresh, live.seq]);
    expect(await events.getPrunedThroughSeq()).toBe(Math.max(...old));
    expect(pruned).toEqual([{ prunedThroughSeq: Math.max(...old) }]);
    // idempotent: nothing more to prune, the recorded seq does not move
    expect(await retention.runOnce(now)).toBe(0);
    expect(await events.getPrunedThroughSeq()).toBe(Math.max(...old));
    // later, the 29-day-old event ages out too
    expect(await retention.runOnce(now + 2 * DAY)).toBe(1);
    expect(await events.getPrunedThroughSeq()).toBe(fresh[0]);
    expect((await events.find({ source: 'retention-test' }, 100, 'asc')).map((e) => e.seq)).toEqual([fresh[1], live.seq]);

    // a live subscriber with a cursor inside the pruned range is told about the gap; one at the boundary is not
    const socket = await connectLive(t.url, t.adminKey);
    try {
      const through = await events.getPrunedThroughSeq();
      const stale = await subscribe(socket, 'all', through - 1, events.epoch);
      expect(stale).toMatchObject({ ok: true, gap: true });
      const current = await subscribe(socket, 'system', through, events.epoch);
      expect(current).toMatchObject({ ok: true, gap: false });
    } finally {
      socket.close();
    }
  });

  it('never deletes an event newer than the cutoff, even when an older-stamped one has a higher seq (clock skew)', async () => {
    const now = Date.now();
    const [recent] = await events.append([{ type: 'system.info', source: 'skew-test', data: {} }]);
    const [skewed] = await insertAt([new Date(now - 40 * DAY).toISOString()], 'skewed');
    expect(skewed).toBeGreaterThan(recent.seq);
    await t.app.get(EventRetentionService).runOnce(now);
    expect((await events.getById(recent.id)).seq).toBe(recent.seq);
    expect(await events.getPrunedThroughSeq()).toBeLessThan(recent.seq);
  });

  it('prunes a large backlog in chunks while other writers keep committing', async () => {
    const now = Date.now();
    const head = await events.getHeadSeq();
    // clear everything so the backlog is the prefix
    await events.write(({ manager }) => manager.query(`DELETE FROM event_log WHERE seq <= ${ph(1)}`, [head]));
    const total = PRUNE_CHUNK_ROWS * 2 + 123;
    const stamp = new Date(now - 60 * DAY).toISOString();
    await events.write(async ({ manager }) => {
      for (let i = 0; i < total; i += 500) {
        const n = Math.min(500, total - i);
        const params: unknown[] = [];
        const tuples = Array.from({ length: n }, () => {
          params.push(randomUUID(), stamp);
          return `(${ph(params.length - 1)}, 'system.info', 'backlog', 'system', '{}', ${ph(params.length)})`;
        });
        await manager.query(`INSERT INTO event_log (id, type, source, channel, data, "createdAt") VALUES ${tuples.join(', ')}`, params);
      }
    });
    const pruning = t.app.get(EventRetentionService).runOnce(now);
    const during = await events.append([{ type: 'system.info', source: 'during-prune', data: {} }]);
    expect(await pruning).toBe(total);
    expect((await events.getById(during[0].id)).source).toBe('during-prune');
    expect(await events.find({ source: 'backlog' }, 10)).toEqual([]);
    // seqs are never reused after a prune, even when the log was pruned down to nothing
    const through = await events.getPrunedThroughSeq();
    await events.write(({ manager }) => manager.query('DELETE FROM event_log'));
    const [next] = await events.append([{ type: 'system.info', source: 'after-prune', data: {} }]);
    expect(next.seq).toBeGreaterThan(through);
    expect(next.seq).toBeGreaterThan(during[0].seq);
  });

  it('when retention empties the log, the head seq stays at the last pruned seq and a current cursor has no gap', async () => {
    const now = Date.now();
    await events.write(({ manager }) => manager.query('DELETE FROM event_log'));
    const old = await insertAt([new Date(now - 70 * DAY).toISOString(), new Date(now - 65 * DAY).toISOString()], 'all-old');
    const retention = t.app.get(EventRetentionService);
    expect(await retention.runOnce(now)).toBe(2);
    // (the retention job may log its own system.info about the prune; drop it to get a truly empty log)
    await events.write(({ manager }) => manager.query('DELETE FROM event_log'));
    const last = Math.max(...old);
    expect(await events.getPrunedThroughSeq()).toBeGreaterThanOrEqual(last);
    const head = await events.getHeadSeq();
    expect(head).toBe(await events.getPrunedThroughSeq());
    const list = await request(t.url).get('/api/events').set('authorization', `Bearer ${t.adminKey}`).expect(200);
    expect(list.body).toMatchObject({ items: [], headSeq: head });
    const socket = await connectLive(t.url, t.adminKey);
    try {
      expect(await subscribe(socket, 'all', head, events.epoch)).toMatchObject({ ok: true, gap: false, headSeq: head });
    } finally {
      socket.close();
    }
    const [next] = await events.append([{ type: 'system.info', source: 'after-empty', data: {} }]);
    expect(next.seq).toBeGreaterThan(head);
  });

  it('an event committed while the prune computes its range is never deleted', async () => {
    const now = Date.now();
    const retention = t.app.get(EventRetentionService);
    const ds = t.app.get(DataSource);
    // a log made only of old events, so all of it is prunable
    await events.write(({ manager }) => manager.query('DELETE FROM event_log'));
    await insertAt([new Date(now - 60 * DAY).toISOString(), new Date(now - 50 * DAY).toISOString()], 'race-old');
    // commit a fresh event right after the prune's first read of the log, before it deletes anything
    let fresh: EventEnvelope | null = null;
    const query = ds.query.bind(ds);
    ds.query = (async (sql: string, params?: unknown[]) => {
      const rows: unknown = await query(sql, params);
      if (!fresh && sql.includes('MIN(seq)')) [fresh] = await events.append([{ type: 'system.info', source: 'race-new', data: {} }]);
      return rows;
    }) as typeof ds.query;
    let n: number;
    try {
      n = await retention.runOnce(now);
    } finally {
      ds.query = query;
    }
    expect(fresh).not.toBeNull();
    expect(n).toBe(2);
    expect((await events.getById(fresh!.id)).seq).toBe(fresh!.seq);
    expect(await events.find({ source: 'race-old' }, 10)).toEqual([]);
    expect(await events.getPrunedThroughSeq()).toBeLessThan(fresh!.seq);
  });
});
