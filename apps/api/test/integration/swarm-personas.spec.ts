import { PERSONA_IDS, type EventEnvelope, type PersonaDto } from '@app/contracts';
import { as, eventsOf, swarmCounts, taskEvents } from '../support/swarm-helpers';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';
import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';

/**
 * Auction window (ms): personas bid from the `swarm.personas` durable consumer right after task.bidding commits.
 * These tests are about bid values, not timing: 800 ms lost a bid on a loaded CI machine, so leave ample room.
 */
const WINDOW = 2500;

describe.each(databaseKinds())('swarm personas (%s)', (db) => {
  let t: TestApp;
  let operatorKey: string;
  let viewerKey: string;
  let ollama: FakeLlmServer;

  beforeAll(async () => {
    // personas do their work through the LLM router; a protocol-faithful fake Ollama stands in for the model
    ollama = await startFake('ollama', 'ollama-local');
    const providers = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({ SPAWN_PERSONAS: 'echo, forge', LLM_PROVIDERS_PATH: providers }, db);
    operatorKey = await createUserKey(t, 'operator');
    viewerKey = await createUserKey(t, 'viewer');
  });
  afterAll(async () => {
    await t.close();
    await ollama.stop();
  });

  const waitStatus = (id: string, statuses: string[]) =>
    waitFor(async () => {
      const r = await as(t, t.adminKey).get(`/api/tasks/${id}`);
      return statuses.includes(r.body.status) ? r.body : null;
    }, 20_000);

  it('the nine personas exist with their fields and bidding parameters', async () => {
    const res = await as(t, viewerKey).get('/api/personas').expect(200);
    const personas = res.body as PersonaDto[];
    expect(personas.map((p) => p.id)).toEqual([...PERSONA_IDS]);
    const table: Record<string, [number, number, number, string]> = {
      echo: [50, 35, 15, 'research,summarization,fact-checking'],
      mace: [75, 55, 20, 'security,monitoring,threat-analysis'],
      helm: [60, 40, 20, 'devops,automation,configuration'],
      seer: [65, 45, 20, 'analytics,visualization,prediction'],
      forge: [55, 38, 17, 'coding,debugging,testing'],
      quill: [45, 30, 15, 'writing,editing,documentation'],
      pixel: [80, 60, 20, 'image-generation,storyboard,design'],
      lyra: [90, 70, 20, 'music-generation,vocals,composition'],
      reel: [100, 80, 20, 'video-generation,animation,motion'],
    };
    for (const p of personas) {
      const [rate, base, jitter, caps] = table[p.id];
      expect([p.rateSats, p.baseBidSats, p.jitterSats, p.capabilities.join(',')]).toEqual([rate, base, jitter, caps]);
      expect(p.name.length).toBeGreaterThan(0);
      expect(p.role.length).toBeGreaterThan(0);
      expect(p.description.length).toBeGreaterThan(0);
      expect(p.preferredKeywords.length).toBeGreaterThanOrEqual(10);
      expect(p.preferredKeywords.length).toBeLessThanOrEqual(15);
    }
    // SPAWN_PERSONAS spawned echo and forge at boot
    expect(personas.filter((p) => p.agentId).map((p) => p.agentId)).toEqual(['persona-echo', 'persona-forge']);
  });

  it('spawned personas bid automatically and the winner does the work through the LLM router, every event in order', async () => {
    ollama.reply = 'Patched the parser: the off-by-one in the tokenizer is fixed.';
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'Fix the failing unit test in the parser', auctionWindowMs: WINDOW }).expect(201)).body;
    const done = await waitStatus(task.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.bids.map((b: { agentId: string }) => b.agentId).sort()).toEqual(['persona-echo', 'persona-forge']);
    // forge is on spec (fix/test): base 38 - jitter <= 38; echo off spec: >= int(35*1.8) = 63
    expect(done.assignedAgentId).toBe('persona-forge');
    expect(done.result).toBe('Patched the parser: the off-by-one in the tokenizer is fixed.');
    const sent = ollama.chatRequests().at(-1)!.body as { messages: { role: string; content: string }[] };
    expect(sent.messages[0]).toMatchObject({ role: 'system' });
    expect(sent.messages[0].content).toContain('Forge');
    expect(sent.messages[1]).toEqual({ role: 'user', content: 'Fix the failing unit test in the parser' });
    const events = await taskEvents(t, task.id);
    expect(events.map((e) => e.type)).toEqual([
      'task.created',
      'task.bidding',
      'bid.submitted',
      'bid.submitted',
      'auction.closed',
      'task.assigned',
      'task.started',
      'tool.called',
      'tool.completed',
      'memory.stored', // the persona stores its result in memory before the task completes
      'task.completed',
    ]);
    const bySource = (type: string) => events.filter((e) => e.type === type).map((e) => e.source);
    expect(bySource('bid.submitted').sort()).toEqual(['persona:echo', 'persona:forge']);
    expect(bySource('auction.closed')).toEqual(['coordinator']);
    expect(bySource('task.started')).toEqual(['persona:forge']);
    expect(bySource('tool.called')).toEqual(['persona:forge']);
    expect(bySource('task.completed')).toEqual(['persona:forge']);
    expect(events.find((e) => e.type === 'tool.called')?.data.name).toBe('llm.complete');
    expect(events.find((e) => e.type === 'tool.completed')?.data).toMatchObject({ name: 'llm.complete', provider: 'ollama-local', model: 'llama3.2' });
    expect(typeof events.find((e) => e.type === 'tool.completed')?.data.latencyMs).toBe('number');
    const forge = await as(t, t.adminKey).get('/api/agents/persona-forge').expect(200);
    expect(forge.body.status).toBe('idle');
    const statusChanges = await eventsOf(t, 'agent.status_changed', 'persona-forge');
    expect(statusChanges.slice(-2).map((e) => `${(e.data as Record<string, unknown>).from}>${(e.data as Record<string, unknown>).to}`)).toEqual(['idle>busy', 'busy>idle']);
  });

  it('with no LLM provider reachable, the persona fails the task with a reason that says what to configure', async () => {
    await as(t, t.adminKey).post('/api/router/providers/ollama-local/control', { action: 'disable' }).expect(200);
    try {
      const task = (await as(t, operatorKey).post('/api/tasks', { description: 'Check the release notes', agentId: 'persona-echo' }).expect(201)).body;
      const done = await waitStatus(task.id, ['completed', 'failed']);
      expect(done.status).toBe('failed');
      expect(done.failureReason).toMatch(/All providers failed/);
      expect(done.failureReason).toMatch(/enable ollama-local/);
      expect(done.failureReason).toMatch(/providers\.yaml/);
      const types = (await taskEvents(t, task.id)).map((e) => e.type);
      expect(types.slice(-4)).toEqual(['task.started', 'tool.called', 'tool.failed', 'task.failed']);
    } finally {
      await as(t, t.adminKey).post('/api/router/providers/ollama-local/control', { action: 'enable' }).expect(200);
    }
  });

  it('a task assigned directly to a persona is executed too', async () => {
    ollama.reply = 'Summary: three people agreed to ship on Friday.';
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'Summarise this thread', agentId: 'persona-echo' }).expect(201)).body;
    const done = await waitStatus(task.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.result).toBe('Summary: three people agreed to ship on Friday.');
    expect((await taskEvents(t, task.id)).map((e) => e.type)).toEqual([
      'task.created',
      'task.assigned',
      'task.started',
      'tool.called',
      'tool.completed',
      'memory.stored',
      'task.completed',
    ]);
  });

  it('spawn, stop and restart emit lifecycle transients set then cleared', async () => {
    const spawned = await as(t, operatorKey).post('/api/personas/quill/spawn').expect(200);
    expect(spawned.body).toMatchObject({ id: 'persona-quill', kind: 'persona', personaId: 'quill', status: 'idle', lifecycle: null, lifecycleSince: null });
    const dup = await as(t, operatorKey).post('/api/personas/quill/spawn').expect(409);
    expect(dup.body.code).toBe('swarm/persona_running');
    const stopped = await as(t, operatorKey).post('/api/personas/quill/stop').expect(200);
    expect(stopped.body.status).toBe('offline');
    const notRunning = await as(t, operatorKey).post('/api/personas/quill/stop').expect(409);
    expect(notRunning.body.code).toBe('swarm/persona_not_running');
    const restarted = await as(t, operatorKey).post('/api/personas/quill/restart').expect(200);
    expect(restarted.body.status).toBe('idle');
    await as(t, operatorKey).post('/api/personas/quill/restart').expect(200);
    const events = await eventsOf(t, 'agent.lifecycle,agent.joined,agent.left,agent.status_changed', 'persona-quill');
    const summary = events.map((e: EventEnvelope) => (e.type === 'agent.lifecycle' ? `lifecycle:${e.data.state}` : e.type === 'agent.status_changed' ? `status:${e.data.to}` : e.type));
    expect(summary).toEqual([
      'lifecycle:spawning',
      'status:idle',
      'lifecycle:null',
      'agent.joined',
      'lifecycle:stopping',
      'status:offline',
      'lifecycle:null',
      'agent.left',
      'lifecycle:restarting',
      'status:idle',
      'lifecycle:null',
      'agent.joined',
      'lifecycle:restarting',
      'agent.left',
      'lifecycle:null',
      'agent.joined',
    ]);
    const setEvents = events.filter((e) => e.type === 'agent.lifecycle' && e.data.state);
    for (const e of setEvents) expect(Date.parse(String((e.data as Record<string, unknown>).since))).toBeGreaterThan(0);
    // DELETE of a persona agent stops it
    const del = await as(t, operatorKey).delete('/api/agents/persona-quill').expect(200);
    expect(del.body.status).toBe('offline');
    const list = (await as(t, viewerKey).get('/api/personas').expect(200)).body as PersonaDto[];
    expect(list.find((p) => p.id === 'quill')?.agentId).toBeNull();
  });

  it('on-spec bids are lower than off-spec bids on average', async () => {
    await as(t, operatorKey).post('/api/personas/mace/spawn').expect(200);
    await as(t, operatorKey).post('/api/personas/lyra/spawn').expect(200);
    const on: number[] = [];
    const off: number[] = [];
    const security = (await as(t, operatorKey).post('/api/tasks', { description: 'Audit the firewall for a security breach', auctionWindowMs: WINDOW }).expect(201)).body;
    const music = (await as(t, operatorKey).post('/api/tasks', { description: 'Compose a melody for the intro song', auctionWindowMs: WINDOW }).expect(201)).body;
    const s = await waitStatus(security.id, ['completed', 'failed']);
    const m = await waitStatus(music.id, ['completed', 'failed']);
    const bid = (task: { bids: { agentId: string; bidSats: number }[] }, agentId: string) => task.bids.find((b) => b.agentId === agentId)!.bidSats;
    on.push(bid(s, 'persona-mace'), bid(m, 'persona-lyra'));
    off.push(bid(s, 'persona-lyra'), bid(m, 'persona-mace'));
    expect(bid(s, 'persona-mace')).toBeLessThan(bid(m, 'persona-mace'));
    expect(bid(m, 'persona-lyra')).toBeLessThan(bid(s, 'persona-lyra'));
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(avg(on)).toBeLessThan(avg(off));
    expect(avg(on)).toBeLessThan(80);
    expect(avg(off)).toBeGreaterThan(40);
    await as(t, operatorKey).post('/api/personas/mace/stop').expect(200);
    await as(t, operatorKey).post('/api/personas/lyra/stop').expect(200);
  });

  it('bad persona requests are refused and write nothing', async () => {
    const before = await swarmCounts(t);
    const unknown = await as(t, operatorKey).post('/api/personas/zorro/spawn').expect(404);
    expect(unknown.body.code).toBe('swarm/persona_not_found');
    await as(t, operatorKey).post('/api/personas/bad.id/spawn').expect(400);
    await as(t, operatorKey).post(`/api/personas/${'x'.repeat(65)}/stop`).expect(400);
    await as(t, viewerKey).post('/api/personas/echo/stop').expect(403);
    const agentKey = (await as(t, t.adminKey).post('/api/agents', { name: 'Persona Poker' }).expect(201)).body.key;
    const after1 = await swarmCounts(t);
    await as(t, agentKey).post('/api/personas/echo/stop').expect(403);
    await as(t, operatorKey).post('/api/agents/persona-echo/keys').expect(400);
    await as(t, operatorKey).post('/api/agents', { name: 'echo' }).expect(409);
    expect(await swarmCounts(t)).toEqual(after1);
    expect(after1.agents).toBe(before.agents + 1);
  });
});
