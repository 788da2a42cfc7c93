import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EventConsumersService } from '../../src/event-log/consumers/event-consumers.service';
import { PERSONAS_CONSUMER } from '../../src/swarm/personas/personas.service';
import { eventLog } from '../support/event-log';
import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { ensureBuilt, kill9, startServer, stop, type Server } from '../support/server-process';
import { ADMIN_PASSWORD, createKeyWithPassword, createPgDatabase, databaseKinds, startTestApp, waitFor } from '../support/test-app';

/**
 * Durable consumers (issue 7, section 2; ADR 0008): a named reader of the log whose cursor commits with its effects.
 * In process: replay from the stored cursor after a restart, exactly-once effects, retries of a failing batch.
 * As a real OS process: kill -9 between the commit of an auction's close and the persona's reaction; after the
 * restart the reaction (the persona starting and doing the task) happens exactly once.
 */
describe.each(databaseKinds())('durable consumers (%s)', (db) => {
  let dir: string;
  let pg: { url: string; drop(): Promise<void> } | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mc-consumers-'));
    if (db === 'postgres') pg = await createPgDatabase();
  });
  afterAll(async () => {
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const dbOverrides = () => (pg ? { DATABASE_URL: pg.url } : { SQLITE_PATH: join(dir, 'consumers.db') });

  it('delivers each event once across restarts: effects and cursor commit together, replay starts at the cursor', async () => {
    const run = `run-${Date.now()}`;
    const handled: number[] = [];
    /** The consumer's effect: one `system.info` per consumed event, in the consumer's own unit of work. */
    const register = (consumers: EventConsumersService, failFirst = false) => {
      let failed = !failFirst;
      consumers.register({
        name: `test.echo.${run}`,
        types: ['tool.called'],
        batchSize: 7,
        startFrom: 'beginning',
        handle: async (events, tx) => {
          if (!failed) {
            failed = true;
            throw new Error('injected failure: the batch must be retried, not skipped');
          }
          for (const e of events) {
            if (e.type !== 'tool.called' || e.data.run !== run) continue;
            handled.push(e.seq);
            tx.append({ type: 'system.info', source: 'test-consumer', data: { message: 'echo', run, of: e.seq } });
          }
        },
      });
    };

    let t = await startTestApp(dbOverrides(), db);
    let log = eventLog(t.app);
    register(log.consumers, true);
    const first = await log.append(Array.from({ length: 20 }, (_, i) => ({ type: 'tool.called' as const, source: 'test', data: { run, i } })));
    await waitFor(async () => handled.length >= 20 || null, 10_000);
    await log.consumers.idle();
    await t.close();

    // restart on the same database: the consumer resumes after its cursor, so nothing is handled twice
    t = await startTestApp({ ...dbOverrides() }, db);
    log = eventLog(t.app);
    register(log.consumers);
    const second = await log.append(Array.from({ length: 5 }, (_, i) => ({ type: 'tool.called' as const, source: 'test', data: { run, i: 100 + i } })));
    await waitFor(async () => handled.length >= 25 || null, 10_000);
    await log.consumers.idle();
    const echoes = (await log.find({ source: 'test-consumer' }, 1000)).filter((e) => e.data.run === run);
    await t.close();

    const expected = [...first, ...second].map((e) => e.seq);
    expect(handled).toEqual(expected);
    expect(echoes.map((e) => e.data.of).sort((a, b) => Number(a) - Number(b))).toEqual(expected);
  }, 60_000);
});

describe.each(databaseKinds())('persona reaction survives kill -9 between auction close and reaction (%s)', (db) => {
  let dir: string;
  let ollama: FakeLlmServer;
  let env: Record<string, string>;
  let pg: { url: string; drop(): Promise<void> } | null = null;
  const servers: Server[] = [];

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'mc-persona-kill-'));
    ollama = await startFake('ollama', 'ollama-local');
    const providers = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    if (db === 'postgres') pg = await createPgDatabase();
    env = {
      ...(pg ? { DATABASE_URL: pg.url } : { SQLITE_PATH: join(dir, 'kill.db') }),
      SPAWN_PERSONAS: 'echo',
      LLM_PROVIDERS_PATH: providers,
      CONSUMER_POLL_MS: '100',
    };
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await kill9(s);
    await ollama.stop();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs SQL against the server's database from the test process (SQLite file in WAL mode, or PostgreSQL). */
  async function sql(text: string, params: unknown[] = []): Promise<void> {
    if (pg) {
      const c = new Client({ connectionString: pg.url });
      await c.connect();
      try {
        await c.query(text.replace(/\?/g, (() => { let i = 0; return () => `$${++i}`; })()), params);
      } finally {
        await c.end();
      }
      return;
    }
    const d = new Database(env.SQLITE_PATH);
    d.pragma('busy_timeout = 5000');
    try {
      d.prepare(text).run(...params);
    } finally {
      d.close();
    }
  }

  it('the persona starts and completes the task exactly once after the restart', async () => {
    const a = await startServer(env);
    servers.push(a);
    const key = await createKeyWithPassword(a.url, 'admin', ADMIN_PASSWORD, 'operator');
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${a.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
    const eventsOf = async (url: string, taskId: string) => {
      const res = await fetch(`${url}/api/events?taskId=${taskId}&limit=500`, { headers: { authorization: `Bearer ${key}` } });
      return ((await res.json()) as { items: { type: string; seq: number }[] }).items;
    };

    const created = await api('/api/tasks', { method: 'POST', body: JSON.stringify({ description: 'echo this back', auctionWindowMs: 1500 }) });
    expect(created.status).toBe(201);
    const task = (await created.json()) as { id: string };
    await waitFor(async () => ((await eventsOf(a.url, task.id)).some((e) => e.type === 'bid.submitted') ? true : null), 10_000);

    // Another holder takes the personas consumer's lease: instance A commits the auction's close but cannot react.
    await sql(`UPDATE event_consumers SET "leaseOwner" = 'test-holder', "leaseUntil" = ? WHERE name = ?`, [
      new Date(Date.now() + 600_000).toISOString(),
      PERSONAS_CONSUMER,
    ]);
    await waitFor(async () => ((await eventsOf(a.url, task.id)).some((e) => e.type === 'task.assigned') ? true : null), 10_000);
    await new Promise((r) => setTimeout(r, 800));
    const beforeKill = await eventsOf(a.url, task.id);
    expect(beforeKill.map((e) => e.type)).toContain('auction.closed');
    expect(beforeKill.map((e) => e.type)).not.toContain('task.started');

    await kill9(a);
    await sql(`UPDATE event_consumers SET "leaseOwner" = NULL, "leaseUntil" = NULL WHERE name = ?`, [PERSONAS_CONSUMER]);

    const b = await startServer(env);
    servers.push(b);
    await waitFor(async () => ((await eventsOf(b.url, task.id)).some((e) => e.type === 'task.completed') ? true : null), 20_000);
    await new Promise((r) => setTimeout(r, 500));
    const after = (await eventsOf(b.url, task.id)).map((e) => e.type);
    expect(after.filter((t) => t === 'auction.closed')).toHaveLength(1);
    expect(after.filter((t) => t === 'task.assigned')).toHaveLength(1);
    expect(after.filter((t) => t === 'task.started')).toHaveLength(1);
    expect(after.filter((t) => t === 'task.completed')).toHaveLength(1);
    expect(after).not.toContain('task.failed');
    await stop(b);
  }, 120_000);
});
