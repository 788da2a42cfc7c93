import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureBuilt, kill9, startServer, stop, type Server } from '../support/server-process';
import { ADMIN_PASSWORD, createKeyWithPassword, createPgDatabase, databaseKinds } from '../support/test-app';

/**
 * Issue section 10: a `kill -9` of the server during a burst of task posts loses no acknowledged task or event,
 * and after a restart the log and the tables agree. The server is the built product (`node dist/main.js`) in its
 * own OS process.
 */

describe.each(databaseKinds())('crash recovery: kill -9 during a burst of task posts (%s)', (db) => {
  let dir: string;
  let env: Record<string, string>;
  let dropPg: (() => Promise<void>) | null = null;
  const servers: Server[] = [];

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'mc-crash-'));
    if (db === 'postgres') {
      const pg = await createPgDatabase();
      dropPg = pg.drop;
      env = { DATABASE_URL: pg.url };
    } else {
      env = { SQLITE_PATH: join(dir, 'crash.db') };
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await kill9(s);
    await dropPg?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every acknowledged task and its events survive; the log and the tables agree', async () => {
    const first = await startServer(env);
    servers.push(first);
    const key = await createKeyWithPassword(first.url, 'admin', ADMIN_PASSWORD, 'operator');

    const acked: string[] = [];
    let failures = 0;
    let killed = false;
    const loop = async (w: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const res = await fetch(`${first.url}/api/tasks`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ description: `crash burst w${w} #${i}` }),
          });
          if (res.status >= 200 && res.status < 300) {
            const body = (await res.json()) as { id: string; status: string };
            acked.push(body.id);
          } else {
            failures++;
          }
        } catch {
          failures++;
          return;
        }
      }
    };
    const loops = Array.from({ length: 32 }, (_, w) => loop(w));
    // kill once the burst is well under way (a few hundred acknowledged posts), with requests in flight
    const started = Date.now();
    while (acked.length < 200 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 5));
    await kill9(first);
    killed = true;
    await Promise.all(loops);
    expect(acked.length).toBeGreaterThanOrEqual(200);
    expect(failures).toBeGreaterThan(0); // requests were in flight when the process died

    const second = await startServer(env);
    servers.push(second);
    const key2 = await createKeyWithPassword(second.url, 'admin', ADMIN_PASSWORD, 'operator');
    // every acknowledged task is there through the API
    const missing: string[] = [];
    for (let i = 0; i < acked.length; i += 16) {
      const chunk = acked.slice(i, i + 16);
      const statuses = await Promise.all(
        chunk.map((id) => fetch(`${second.url}/api/tasks/${id}`, { headers: { authorization: `Bearer ${key2}` } }).then((r) => r.status)),
      );
      chunk.forEach((id, k) => statuses[k] !== 200 && missing.push(id));
    }
    expect(missing).toEqual([]);
    await stop(second);

    // then read the store directly: tables and log agree in both directions
    let tasks: { id: string; status: string }[];
    let created: { taskId: string }[];
    let bidding: { taskId: string }[];
    if (db === 'sqlite') {
      const sql = new Database(env.SQLITE_PATH, { readonly: true });
      tasks = sql.prepare('SELECT id, status FROM tasks').all() as typeof tasks;
      created = sql.prepare(`SELECT "taskId" FROM event_log WHERE type = 'task.created'`).all() as typeof created;
      bidding = sql.prepare(`SELECT "taskId" FROM event_log WHERE type = 'task.bidding'`).all() as typeof bidding;
      const seqs = sql.prepare('SELECT seq FROM event_log ORDER BY seq').all() as { seq: number }[];
      expect(new Set(seqs.map((s) => s.seq)).size).toBe(seqs.length);
      sql.close();
    } else {
      const c = new Client({ connectionString: env.DATABASE_URL });
      await c.connect();
      tasks = (await c.query('SELECT id, status FROM tasks')).rows;
      created = (await c.query(`SELECT "taskId" FROM event_log WHERE type = 'task.created'`)).rows;
      bidding = (await c.query(`SELECT "taskId" FROM event_log WHERE type = 'task.bidding'`)).rows;
      await c.end();
    }
    const taskIds = new Set(tasks.map((t) => t.id));
    const createdIds = created.map((e) => e.taskId);
    const ackedSet = new Set(acked);
    expect(acked.filter((id) => !taskIds.has(id))).toEqual([]);
    const createdSet = new Set(createdIds);
    expect(acked.filter((id) => !createdSet.has(id))).toEqual([]);
    // every task row has exactly one task.created and one task.bidding event, and every such event has its row
    expect(new Set(createdIds).size).toBe(createdIds.length);
    expect([...taskIds].sort()).toEqual([...createdIds].sort());
    expect([...taskIds].sort()).toEqual(bidding.map((e) => e.taskId).sort());
    // rows beyond the acknowledged ones can only be posts whose reply was lost in the kill
    expect(tasks.length - acked.length).toBeGreaterThanOrEqual(0);
    expect(tasks.length - acked.length).toBeLessThanOrEqual(failures);
    expect(tasks.every((t) => ackedSet.has(t.id) || t.status === 'bidding' || t.status === 'failed')).toBe(true);
  }, 90_000);
});
