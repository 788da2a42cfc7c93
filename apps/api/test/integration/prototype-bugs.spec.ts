import type { EventType } from '@app/contracts';
import type { LooseEnvelope as EventEnvelope } from '../support/event-log';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { InternalBus } from '../../src/event-log/internal-bus';
import { makeRepo, type TestRepo } from '../support/git-repo';
import { eventLog, type TestEventLog } from '../support/event-log';
import { RealtimeGateway } from '../../src/realtime/realtime.gateway';
import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { Collector, connectLive, subscribe } from '../support/live-client';
import { as, enrollAgent, eventsOf, sleep } from '../support/swarm-helpers';
import { createPgDatabase, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * One test per backbone bug of the prototype ("Gaps and bugs" in reference/timmy-original.md): each would fail
 * against the prototype's behaviour.
 */

/** Every event type issue #2 section 3 requires to be emitted by the code path it names. */
const REQUIRED_TYPES: EventType[] = [
  'task.created',
  'task.bidding',
  'task.assigned',
  'task.started',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'agent.joined',
  'agent.left',
  'agent.status_changed',
  'agent.lifecycle',
  'bid.submitted',
  'auction.closed',
  'message.sent',
  'message.delivered',
  'question.asked',
  'question.answered',
  'tool.called',
  'tool.completed',
  'tool.failed',
  'system.info',
  'system.warning',
  'system.error',
];

describe.each(databaseKinds())('prototype bugs do not recur (%s)', (db) => {
  let t: TestApp;
  let events: TestEventLog;
  const ph = (i: number) => (db === 'postgres' ? `$${i}` : '?');

  let ollama: FakeLlmServer;
  let repo: TestRepo;

  beforeAll(async () => {
    // personas work through the LLM router: a protocol-faithful fake Ollama stands in for the model
    ollama = await startFake('ollama', 'ollama-local');
    const providers = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    // the upgrade queue is on (a real target repository), so its routes are part of the every-GET-route check
    repo = makeRepo();
    t = await startTestApp({ SOCKET_MAX_BUFFERED_FRAMES: 16, LLM_PROVIDERS_PATH: providers, UPGRADE_REPO_PATH: repo.path, UPGRADE_TEST_COMMAND: 'sh run-tests.sh' }, db);
    events = eventLog(t.app);
  });
  afterAll(async () => {
    await t.close();
    await ollama.stop();
    repo.remove();
  });

  it('ADR-017: every declared event type is actually emitted by a full swarm flow (the prototype emitted 7 of 17)', async () => {
    const op = as(t, t.adminKey);
    const wait = (fn: () => Promise<boolean>) => waitFor(fn, 10_000, 20);
    const taskStatus = async (id: string) => (await op.get(`/api/tasks/${id}`).expect(200)).body.status as string;

    // a persona: spawn (agent.lifecycle + agent.joined), direct assignment, it executes (tool.*, task.started/completed)
    await op.post('/api/personas/echo/spawn').expect(200);
    const direct = (await op.post('/api/tasks', { description: 'summarise the logs', agentId: 'persona-echo' }).expect(201)).body;
    await wait(async () => (await taskStatus(direct.id)) === 'completed');
    await op.post('/api/personas/echo/stop').expect(200);

    // external agents: join, bid, win, work, report tool calls, complete / fail
    const a = await enrollAgent(t, 'Flow Agent A', { capabilities: ['research'] });
    const b = await enrollAgent(t, 'Flow Agent B');
    const won = (await op.post('/api/tasks', { description: 'research lightning fees', auctionWindowMs: 300 }).expect(201)).body;
    await as(t, a.key).post(`/api/tasks/${won.id}/bids`, { bidSats: 10 }).expect(201);
    await as(t, b.key).post(`/api/tasks/${won.id}/bids`, { bidSats: 25 }).expect(201);
    await wait(async () => (await taskStatus(won.id)) === 'assigned');
    await as(t, a.key).post(`/api/tasks/${won.id}/start`).expect(200);
    await as(t, a.key).post('/api/events', { type: 'tool.called', taskId: won.id, data: { tool: 'search' } }).expect(201);
    await as(t, a.key).post('/api/events', { type: 'tool.failed', taskId: won.id, data: { tool: 'search', error: 'timeout' } }).expect(201);
    await as(t, a.key).post('/api/events', { type: 'tool.completed', taskId: won.id, data: { tool: 'search' } }).expect(201);
    await as(t, a.key).post(`/api/tasks/${won.id}/complete`, { result: 'fees are low' }).expect(200);

    const failed = (await op.post('/api/tasks', { description: 'doomed job', agentId: b.id }).expect(201)).body;
    await as(t, b.key).post(`/api/tasks/${failed.id}/fail`, { reason: 'could not reach upstream' }).expect(200);
    const cancelled = (await op.post('/api/tasks', { description: 'not needed', auctionWindowMs: 60_000 }).expect(201)).body;
    await op.post(`/api/tasks/${cancelled.id}/cancel`, { reason: 'changed my mind' }).expect(200);

    // messages and questions
    const msg = (await op.post('/api/messages', { toAgentId: a.id, body: 'hello A' }).expect(201)).body;
    await as(t, a.key).post(`/api/messages/${msg.id}/delivered`).expect(200);
    const q = (await as(t, a.key).post('/api/questions', { question: 'Ship it?', options: ['yes', 'no'] }).expect(201)).body;
    await op.post(`/api/questions/${q.id}/answer`, { answer: ['yes'] }).expect(200);

    await as(t, b.key).post('/api/agents/me/leave').expect(200);

    // system.warning: a realtime client that stops reading is shed and the server logs a warning
    const gw = t.app.get(RealtimeGateway);
    const slow = await connectLive(t.url, t.adminKey);
    await subscribe(slow, 'all');
    const slowTcp = (slow.io.engine.transport as unknown as { ws: { _socket: { pause(): void; destroy(): void } } }).ws._socket;
    slowTcp.pause();
    const shedBefore = gw.stats.slowConsumers;
    const payload = 'x'.repeat(2000);
    for (let round = 0; round < 60 && gw.stats.slowConsumers === shedBefore; round++) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => events.append([{ type: 'system.info', source: 'flood', data: { i, payload } }])));
      await sleep(5);
    }
    // a paused client cannot complete a websocket close handshake: drop its TCP connection
    slowTcp.destroy();
    slow.close();

    // system.error: an unhandled failure on a request (the store lost a table under the running server)
    const tmp = `broken_${Date.now()}`;
    await events.write(({ manager }) => manager.query(`ALTER TABLE agent_messages RENAME TO ${tmp}`));
    const broken = await op.get('/api/messages').expect(500);
    expect(broken.body).toEqual({ statusCode: 500, code: 'server/internal', message: 'Internal server error' });
    // the same failure on a request with a body: a 500, not a 400 "aborted" (Node marks a request whose body was
    // read as destroyed; that is not a client abort)
    const brokenPost = await op.post('/api/messages', { toAgentId: a.id, body: 'into the void' }).expect(500);
    expect(brokenPost.body).toEqual({ statusCode: 500, code: 'server/internal', message: 'Internal server error' });
    await events.write(({ manager }) => manager.query(`ALTER TABLE ${tmp} RENAME TO agent_messages`));
    await op.get('/api/messages').expect(200);

    await wait(async () => (await eventsOf(t, 'system.warning,system.error')).length >= 2);
    const missing: string[] = [];
    for (const type of REQUIRED_TYPES) {
      const res = await op.get(`/api/events?type=${type}&limit=1`).expect(200);
      if (res.body.items.length === 0) missing.push(type);
    }
    expect(missing).toEqual([]);
    // and they are attributed: the agent events name their agent, the task events their task
    const lifecycle = await eventsOf(t, 'agent.lifecycle', 'persona-echo');
    expect(lifecycle.length).toBeGreaterThanOrEqual(2);
    const wonTypes = (await as(t, t.adminKey).get(`/api/events?taskId=${won.id}&after=0&limit=100`).expect(200)).body.items.map((e: EventEnvelope) => e.type);
    expect(wonTypes).toEqual(expect.arrayContaining(['task.created', 'task.bidding', 'bid.submitted', 'auction.closed', 'task.assigned', 'task.started', 'tool.called', 'tool.failed', 'tool.completed', 'task.completed']));
    const errorEvent = (await eventsOf(t, 'system.error')).find((e) => String((e.data as Record<string, unknown>).message).includes('/api/messages'));
    expect(errorEvent).toBeDefined();
    expect((await eventsOf(t, 'system.warning')).some((e) => e.source === 'realtime')).toBe(true);
  }, 60_000);

  it('GET /swarm/tasks/{id} returned 200 for an unknown id: ours is 404 with a code', async () => {
    const res = await as(t, t.adminKey).get(`/api/tasks/${randomUUID()}`).expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, code: 'swarm/task_not_found' });
    await as(t, t.adminKey).get('/api/tasks/no-such-task').expect(404);
  });

  it('the /swarm/events/partial route always returned 500: every documented GET route answers without a 5xx', async () => {
    const doc = (await request(t.url).get('/api/docs-json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    const gets = Object.entries(doc.paths).filter(([, ops]) => 'get' in ops).map(([p]) => p);
    expect(gets).toEqual(expect.arrayContaining(['/api/events', '/api/events/summary', '/api/events/export', '/api/tasks', '/api/agents']));
    const failures: string[] = [];
    for (const path of gets) {
      const concrete = path.replace(/\{[^}]+\}/g, 'unknown-id-0');
      const res = await as(t, t.adminKey).get(concrete);
      // a route with an id, or one about the caller's own agent (`.../me` as an admin without an agent), may be a 4xx
      const ok = path.includes('{') || path.endsWith('/me') ? res.status >= 200 && res.status < 500 : res.status === 200;
      if (!ok) failures.push(`${concrete} -> ${res.status}`);
    }
    expect(failures).toEqual([]);
  });

  it('data was a JSON string end to end: REST, export and live frames all carry an object', async () => {
    const live = await connectLive(t.url, t.adminKey);
    const c = new Collector().attach(live);
    await subscribe(live, 'all');
    const data = { nested: { list: [1, { deep: true }] }, text: '{"looks":"like json"}' };
    const [e] = await events.append([{ type: 'system.info', source: 'data-check', data }]);
    await waitFor(() => c.seqs('all').includes(e.seq));
    const framed = c.byChannel.get('all')!.find((x) => x.seq === e.seq)!;
    live.close();
    expect(framed.data).toEqual(data);
    const listed = (await as(t, t.adminKey).get(`/api/events?source=data-check`).expect(200)).body.items[0];
    expect(listed.data).toEqual(data);
    const ndjson = await as(t, t.adminKey).get(`/api/events/export?source=data-check`).buffer(true).parse((r, cb) => {
      let s = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (s += d));
      r.on('end', () => cb(null, s));
    });
    expect(JSON.parse((ndjson.body as string).trim()).data).toEqual(data);
  });

  it('an unknown event type in the table crashed every read: reads, export, summary and replay still work', async () => {
    const id = randomUUID();
    const [before] = await events.append([{ type: 'system.info', source: 'legacy-check' }]);
    await events.write(({ manager }) =>
      manager.query(
        `INSERT INTO event_log (id, type, source, channel, data, "createdAt") VALUES (${ph(1)}, 'legacy.removed_type', 'legacy-check', 'system', '{"old":true}', ${ph(2)})`,
        [id, new Date().toISOString()],
      ),
    );
    const op = as(t, t.adminKey);
    const listed = await op.get('/api/events?source=legacy-check').expect(200);
    expect(listed.body.items.map((e: EventEnvelope) => e.type)).toEqual(['legacy.removed_type', 'system.info']);
    expect((await op.get(`/api/events/${id}`).expect(200)).body.data).toEqual({ old: true });
    expect((await op.get('/api/events/summary').expect(200)).body.counts['legacy.removed_type']).toBe(1);
    await op.get('/api/events/export?format=csv').expect(200);
    const live = await connectLive(t.url, t.adminKey);
    const c = new Collector().attach(live);
    const ack = await subscribe(live, 'system', before.seq - 1);
    expect(ack.ok).toBe(true);
    await waitFor(() => (c.byChannel.get('system') ?? []).some((e) => e.id === id));
    live.close();
  });

  it('events logged off the request path (timers, setImmediate, a worker thread) were dropped: all are persisted and delivered', async () => {
    const live = await connectLive(t.url, t.adminKey);
    const c = new Collector().attach(live);
    const ack = await subscribe(live, 'all', await events.getHeadSeq());
    expect(ack.ok).toBe(true);
    const bus: EventEnvelope[] = [];
    const onBus = (batch: EventEnvelope[]) => bus.push(...batch.filter((e) => e.source === 'off-path'));
    const offBus = t.app.get(InternalBus).on('appended', onBus as unknown as (b: unknown) => void);
    const log = (origin: string, i: number) => events.append([{ type: 'system.info', source: 'off-path', data: { origin, i } }]);
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      setTimeout(() => pending.push(log('timer', i)), i % 5);
      setImmediate(() => pending.push(log('immediate', i)));
      process.nextTick(() => pending.push(log('nextTick', i)));
      queueMicrotask(() => pending.push(log('microtask', i)));
    }
    // a worker thread cannot touch the database: it posts to the main thread, which appends
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       for (let i = 0; i < 50; i++) setTimeout(() => parentPort.postMessage(i), i % 7);
       setTimeout(() => parentPort.postMessage('done'), 20);`,
      { eval: true },
    );
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: number | string) => (m === 'done' ? resolve() : pending.push(log('worker', m as number))));
      worker.on('error', reject);
    });
    await worker.terminate();
    await waitFor(() => pending.length === 130, 5000);
    await Promise.all(pending);
    const stored = await events.find({ source: 'off-path' }, 1000, 'asc');
    expect(stored).toHaveLength(130);
    const byOrigin = (list: EventEnvelope[]) =>
      list.reduce<Record<string, number>>((acc, e) => ({ ...acc, [String((e.data as Record<string, unknown>).origin)]: (acc[String((e.data as Record<string, unknown>).origin)] ?? 0) + 1 }), {});
    expect(byOrigin(stored)).toEqual({ timer: 20, immediate: 20, nextTick: 20, microtask: 20, worker: 50 });
    await waitFor(() => (c.byChannel.get('all') ?? []).filter((e) => e.source === 'off-path').length >= 130, 5000);
    const delivered = (c.byChannel.get('all') ?? []).filter((e) => e.source === 'off-path');
    expect(delivered.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(bus.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    offBus();
    live.close();
  });

  it('feed XSS through innerHTML: event data comes back verbatim as JSON (never HTML) under a CSP without inline script', async () => {
    const enrolled = await enrollAgent(t, `Xss Agent ${db}`);
    const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
    const res = await as(t, enrolled.key).post('/api/events', { type: 'tool.called', data: { output: evil } }).expect(201);
    const got = await as(t, t.adminKey).get(`/api/events/${res.body.id}`).expect(200);
    expect(got.headers['content-type']).toMatch(/^application\/json/);
    expect(got.body.data.output).toBe(evil);
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(got.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it('nothing scheduled pruning: the retention job runs by itself', async () => {
    const pruning = await startTestApp({ EVENT_RETENTION_DAYS: 1, EVENT_PRUNE_INTERVAL_MS: 1000 }, db);
    try {
      const ev = eventLog(pruning.app);
      const ds = pruning.app.get(DataSource);
      // a log whose oldest events are two days old (the boot events are recent, so make them old too)
      await ev.write(({ manager }) => manager.query(`UPDATE event_log SET "createdAt" = ${ph(1)}`, [new Date(Date.now() - 2 * 86_400_000).toISOString()]));
      const head = await ev.getHeadSeq();
      expect(head).toBeGreaterThan(0);
      await waitFor(async () => (await ev.getPrunedThroughSeq()) >= head, 5000);
      const rows: { n: number | string }[] = await ds.query(`SELECT COUNT(*) AS n FROM event_log WHERE seq <= ${ph(1)}`, [head]);
      expect(Number(rows[0].n)).toBe(0);
    } finally {
      await pruning.close();
    }
  });
});

describe.each(databaseKinds())('prototype bug: tasks stuck after a restart (%s)', (db) => {
  it('nothing stays bidding/assigned/running across a restart; each change is logged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-stuck-'));
    const pg = db === 'postgres' ? await createPgDatabase() : null;
    const storage = pg ? { DATABASE_URL: pg.url } : { SQLITE_PATH: join(dir, 'stuck.db') };
    let t2: TestApp | null = null;
    try {
      const t1 = await startTestApp(storage, db);
      const a = await enrollAgent(t1, 'Stuck A');
      const b = await enrollAgent(t1, 'Stuck B');
      const op = as(t1, t1.adminKey);
      const running = (await op.post('/api/tasks', { description: 'running', agentId: a.id }).expect(201)).body;
      await as(t1, a.key).post(`/api/tasks/${running.id}/start`).expect(200);
      const assigned = (await op.post('/api/tasks', { description: 'assigned', agentId: b.id }).expect(201)).body;
      const expired = (await op.post('/api/tasks', { description: 'auction ends while down', auctionWindowMs: 300 }).expect(201)).body;
      const open = (await op.post('/api/tasks', { description: 'auction ends after restart', auctionWindowMs: 2500 }).expect(201)).body;
      await t1.close();
      await sleep(400);

      t2 = await startTestApp(storage, db);
      const t = t2;
      const get = async (id: string) => (await as(t, t.adminKey).get(`/api/tasks/${id}`).expect(200)).body;
      expect((await get(running.id)).status).toBe('failed');
      expect((await get(assigned.id)).status).toBe('failed');
      expect((await get(expired.id)).status).toBe('failed');
      // the still-open auction is re-armed and closes on time instead of staying in bidding forever
      expect((await get(open.id)).status).toBe('bidding');
      await waitFor(async () => (await get(open.id)).status !== 'bidding', 6000, 50);
      expect((await get(open.id)).status).toBe('failed');
      const failedIds = (await eventsOf(t, 'task.failed')).map((e) => e.taskId);
      expect(failedIds).toEqual(expect.arrayContaining([running.id, assigned.id, expired.id, open.id]));
      const stuck = (await as(t, t.adminKey).get('/api/tasks?limit=500').expect(200)).body.items.filter((x: { status: string }) =>
        ['bidding', 'assigned', 'running'].includes(x.status),
      );
      expect(stuck).toEqual([]);
    } finally {
      await t2?.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
