import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { as, enrollAgent, taskEvents } from '../support/swarm-helpers';
import { startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * Issue 12: personas that need an LLM do not bid while no provider can serve them, their agent row says why, and
 * posting a task warns when no agent able to do it is available. Real app, fake Ollama over HTTP, real outage.
 */
describe('personas without an LLM provider (issue 12)', () => {
  let t: TestApp;
  let ollama: FakeLlmServer;

  beforeAll(async () => {
    ollama = await startFake('ollama', 'ollama-local');
    const providers = writeProvidersYaml({
      // probes every 150 ms: a stopped Ollama is known unreachable quickly, a restarted one reachable again
      cascade: fastCascade({ health_check: { interval_ms: 150, timeout_ms: 300 }, circuit_breaker: { failure_threshold: 3, recovery_timeout_ms: 600_000, half_open_max_calls: 1 } }),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({ SPAWN_PERSONAS: 'echo', LLM_PROVIDERS_PATH: providers, AUCTION_WINDOW_MS: 600 });
    await waitFor(async () => (await as(t, t.adminKey).get('/api/agents/persona-echo')).body.status === 'idle', 10_000);
  });
  afterAll(async () => {
    await t?.close();
    await ollama?.stop();
  });

  const agent = async (id: string) => (await as(t, t.adminKey).get(`/api/agents/${id}`).expect(200)).body;
  const bidsOn = async (taskId: string) => (await taskEvents(t, taskId)).filter((e) => e.type === 'bid.submitted').map((e) => e.agentId);

  it('with a provider up: the persona bids, no warning, no unavailableReason', async () => {
    expect((await agent('persona-echo')).unavailableReason).toBeNull();
    const task = (await as(t, t.adminKey).post('/api/tasks', { description: 'research the fee market' }).expect(201)).body;
    expect(task.warning).toBeNull();
    await waitFor(async () => (await bidsOn(task.id)).includes('persona-echo'), 5000);
    await waitFor(async () => ['completed', 'failed'].includes((await as(t, t.adminKey).get(`/api/tasks/${task.id}`)).body.status), 10_000);
  });

  it('Ollama down: the persona says why, does not bid, and posting warns (auction and direct assignment)', async () => {
    await ollama.stop();
    try {
      const reason = await waitFor(async () => (await agent('persona-echo')).unavailableReason as string | null, 5000);
      expect(reason).toMatch(/^no LLM provider can serve requests: ollama-local /);
      expect((await as(t, t.adminKey).get('/api/agents')).body.items.find((a: { id: string }) => a.id === 'persona-echo').unavailableReason).toBe(reason);

      const task = (await as(t, t.adminKey).post('/api/tasks', { description: 'research while the model is down' }).expect(201)).body;
      expect(task.status).toBe('bidding');
      expect(task.warning).toMatch(/No agent can take this task now: the 1 online agent\(s\) are personas that do not bid while no LLM provider can serve requests/);
      const closed = await waitFor(async () => {
        const r = (await as(t, t.adminKey).get(`/api/tasks/${task.id}`)).body;
        return r.status === 'failed' ? r : null;
      }, 5000);
      expect(closed.failureReason).toBe('no bids received');
      expect(await bidsOn(task.id)).toEqual([]);

      const direct = (await as(t, t.adminKey).post('/api/tasks', { description: 'do it anyway', agentId: 'persona-echo' }).expect(201)).body;
      expect(direct.warning).toMatch(/^Echo cannot do this task now: no LLM provider can serve requests/);
      await waitFor(async () => (await as(t, t.adminKey).get(`/api/tasks/${direct.id}`)).body.status === 'failed', 10_000);

      // an external agent online can take it: no warning, and only it bids
      const ext = await enrollAgent(t, 'Readiness Ext');
      const withExt = (await as(t, t.adminKey).post('/api/tasks', { description: 'someone can do this', auctionWindowMs: 800 }).expect(201)).body;
      expect(withExt.warning).toBeNull();
      await as(t, ext.key).post(`/api/tasks/${withExt.id}/bids`, { bidSats: 3 }).expect(201);
      const assigned = await waitFor(async () => {
        const r = (await as(t, t.adminKey).get(`/api/tasks/${withExt.id}`)).body;
        return r.status === 'assigned' ? r : null;
      }, 5000);
      expect(assigned.assignedAgentId).toBe(ext.id);
      expect(await bidsOn(withExt.id)).toEqual([ext.id]);
      expect((await agent(ext.id)).unavailableReason).toBeNull();
      await as(t, ext.key).post(`/api/tasks/${withExt.id}/complete`, { result: 'ok' }).expect(200);
      await as(t, ext.key).post('/api/agents/me/leave').expect(200);
    } finally {
      await ollama.start();
    }
    // Ollama back: the probe clears the reason and the persona bids again
    await as(t, t.adminKey).post('/api/router/providers/ollama-local/control', { action: 'reset_circuit' }).expect(200);
    await waitFor(async () => (await agent('persona-echo')).unavailableReason === null, 5000);
    const again = (await as(t, t.adminKey).post('/api/tasks', { description: 'research after recovery' }).expect(201)).body;
    await waitFor(async () => (await bidsOn(again.id)).includes('persona-echo'), 5000);
  });

  it('no agent online at all: the warning says so', async () => {
    await as(t, t.adminKey).post('/api/personas/echo/stop').expect((r) => expect([200, 201]).toContain(r.status));
    const task = (await as(t, t.adminKey).post('/api/tasks', { description: 'lonely task' }).expect(201)).body;
    expect(task.warning).toMatch(/^No agent is online/);
  });
});
