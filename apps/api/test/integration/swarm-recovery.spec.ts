import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { as, enrollAgent, eventsOf, sleep, taskEvents } from '../support/swarm-helpers';
import { createPgDatabase, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

describe.each(databaseKinds())('swarm restart recovery (%s)', (db) => {
  let dir: string;
  let pg: { url: string; drop(): Promise<void> } | null = null;
  let t2: TestApp | null = null;
  // seer bids only while an LLM provider can serve it (issue 12): a fake Ollama stands in for the real one
  let ollama: FakeLlmServer;
  let providers: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mc-recovery-'));
    ollama = await startFake('ollama', 'ollama-local');
    providers = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    if (db === 'postgres') pg = await createPgDatabase();
  });
  afterAll(async () => {
    await t2?.close();
    await ollama?.stop();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails interrupted tasks, offlines agents, closes or re-arms auctions and question deadlines', async () => {
    const storage = pg ? { DATABASE_URL: pg.url } : { SQLITE_PATH: join(dir, 'shared.db') };
    const t1 = await startTestApp({ ...storage, SPAWN_PERSONAS: 'seer', LLM_PROVIDERS_PATH: providers }, 'sqlite');
    const a = await enrollAgent(t1, 'Restart A');
    const b = await enrollAgent(t1, 'Restart B');
    const op = as(t1, t1.adminKey);
    const running = (await op.post('/api/tasks', { description: 'long job', agentId: a.id }).expect(201)).body;
    await as(t1, a.key).post(`/api/tasks/${running.id}/start`).expect(200);
    const assigned = (await op.post('/api/tasks', { description: 'queued job', agentId: b.id }).expect(201)).body;
    const finished = (await op.post('/api/tasks', { description: 'finished job', agentId: b.id }).expect(201)).body;
    await as(t1, b.key).post(`/api/tasks/${finished.id}/complete`, { result: 'done' }).expect(200);
    // "Restart ..." descriptions are off spec for seer; seer bids too, so agent A must bid lower to win
    const stale = (await op.post('/api/tasks', { description: 'stale auction', auctionWindowMs: 1000 }).expect(201)).body;
    await as(t1, a.key).post(`/api/tasks/${stale.id}/bids`, { bidSats: 1 }).expect(201);
    const future = (await op.post('/api/tasks', { description: 'future auction', auctionWindowMs: 8000 }).expect(201)).body;
    const q1 = (await as(t1, a.key).post('/api/questions', { question: 'soon?', options: ['y'], deadline: new Date(Date.now() + 1000).toISOString() }).expect(201)).body;
    const q2 = (await as(t1, a.key).post('/api/questions', { question: 'later?', options: ['y'], deadline: new Date(Date.now() + 8000).toISOString() }).expect(201)).body;
    await waitFor(async () => (await as(t1, t1.adminKey).get(`/api/tasks/${stale.id}`)).body.bids.length === 2, 3000);
    await t1.close();

    await sleep(Math.max(0, Date.parse(stale.auctionClosesAt) - Date.now(), Date.parse(q1.deadline) - Date.now()) + 100);
    t2 = await startTestApp({ ...storage, SPAWN_PERSONAS: 'seer', LLM_PROVIDERS_PATH: providers }, 'sqlite');
    const t = t2;
    const get = async (id: string) => (await as(t, t.adminKey).get(`/api/tasks/${id}`).expect(200)).body;

    for (const id of [running.id, assigned.id]) {
      const task = await get(id);
      expect(task).toMatchObject({ status: 'failed', failureReason: 'server restarted before the task finished' });
      const failedEvent = (await taskEvents(t, id)).find((e) => e.type === 'task.failed');
      expect(failedEvent?.data).toMatchObject({ reason: 'server restarted before the task finished', recovered: true });
    }
    expect((await get(finished.id)).status).toBe('completed');
    const closed = await get(stale.id);
    expect(closed).toMatchObject({ status: 'assigned', assignedAgentId: a.id, winningBidSats: 1 });
    expect((await taskEvents(t, stale.id)).map((e) => e.type).slice(-2)).toEqual(['auction.closed', 'task.assigned']);
    expect((await get(future.id)).status).toBe('bidding');
    for (const agent of [a, b]) {
      expect((await as(t, t.adminKey).get(`/api/agents/${agent.id}`)).body.status).toBe('offline');
      const changes = await eventsOf(t, 'agent.status_changed', agent.id);
      expect(changes[changes.length - 1].data).toMatchObject({ to: 'offline', reason: 'server restarted' });
    }
    // the persona survives the restart (in-process), SPAWN_PERSONAS does not spawn it twice
    expect((await as(t, t.adminKey).get('/api/agents/persona-seer')).body.status).toBe('idle');
    expect((await eventsOf(t, 'agent.joined', 'persona-seer')).length).toBe(1);
    expect((await as(t, t.adminKey).get(`/api/questions/${q1.id}`)).body.status).toBe('expired');
    expect((await as(t, t.adminKey).get(`/api/questions/${q2.id}`)).body.status).toBe('open');
    const info = (await eventsOf(t, 'system.info')).filter((e) => (e.data as Record<string, unknown>).message === 'swarm recovered after start');
    expect(info).toHaveLength(2);
    expect((info[1].data as Record<string, unknown>).recovered).toMatchObject({
      tasksFailed: 2,
      agentsOfflined: 2,
      auctionsClosed: 1,
      auctionsRearmed: 1,
      questionsExpired: 1,
      questionTimersRearmed: 1,
    });

    // the re-armed auction closes on time (seer bids on it, so it gets assigned and completed), the question expires
    const fut = await waitFor(async () => {
      const task = await get(future.id);
      return task.status !== 'bidding' ? task : null;
    }, 10_000);
    expect(Date.parse(fut.assignedAt ?? fut.completedAt) - Date.parse(future.auctionClosesAt)).toBeLessThan(1000);
    await waitFor(async () => (await as(t, t.adminKey).get(`/api/questions/${q2.id}`)).body.status === 'expired', 10_000);
    // the returning agent can start the task it won while the server was down
    await as(t, a.key).post('/api/agents/me/heartbeat').expect(200);
    expect((await as(t, t.adminKey).get(`/api/agents/${a.id}`)).body.status).toBe('busy');
    await as(t, a.key).post(`/api/tasks/${stale.id}/start`).expect(200);
  });
});
