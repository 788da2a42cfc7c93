import { as, enrollAgent, eventsOf, swarmCounts, sleep } from '../support/swarm-helpers';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

const HEARTBEAT_TIMEOUT_MS = 1500;

describe.each(databaseKinds())('swarm agents, messages and questions (%s)', (db) => {
  let t: TestApp;
  let operatorKey: string;
  let viewerKey: string;

  beforeAll(async () => {
    // heartbeats come every 200 ms below; 1.5 s of silence marks offline, a margin that holds on a loaded machine
    t = await startTestApp({ HEARTBEAT_TIMEOUT_MS: HEARTBEAT_TIMEOUT_MS }, db);
    operatorKey = await createUserKey(t, 'operator');
    viewerKey = await createUserKey(t, 'viewer');
  });
  afterAll(() => t.close());

  it('enrolls, joins, keeps alive with heartbeats, times out, comes back, leaves', async () => {
    const enrolled = await as(t, operatorKey).post('/api/agents', { name: 'Night Owl', capabilities: ['research', 'coding'] }).expect(201);
    expect(enrolled.body.agent).toMatchObject({ id: 'night-owl', name: 'Night Owl', kind: 'external', status: 'offline', capabilities: ['research', 'coding'] });
    expect(enrolled.body.key).toMatch(/^mck_/);
    const key = enrolled.body.key as string;
    expect(JSON.stringify(await eventsOf(t, 'auth.key_created,system.info', 'night-owl'))).not.toContain(key);
    const me = await as(t, key).get('/api/auth/me').expect(200);
    expect(me.body.principal).toMatchObject({ role: 'agent', agentId: 'night-owl' });
    const joined = await as(t, key).post('/api/agents/me/join', { capabilities: ['research'] }).expect(200);
    expect(joined.body).toMatchObject({ status: 'idle', capabilities: ['research'] });
    // heartbeats keep it online past the timeout
    for (let i = 0; i < 4; i++) {
      await sleep(200);
      await as(t, key).post('/api/agents/me/heartbeat').expect(200);
    }
    expect((await as(t, viewerKey).get('/api/agents/night-owl').expect(200)).body.status).toBe('idle');
    // silence -> offline by the monitor
    const off = await waitFor(async () => {
      const r = await as(t, viewerKey).get('/api/agents/night-owl');
      return r.body.status === 'offline' ? r.body : null;
    }, 4 * HEARTBEAT_TIMEOUT_MS);
    expect(Date.now() - Date.parse(off.lastHeartbeatAt)).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT_MS);
    const back = await as(t, key).post('/api/agents/me/heartbeat').expect(200);
    expect(back.body.status).toBe('idle');
    const left = await as(t, key).post('/api/agents/me/leave').expect(200);
    expect(left.body.status).toBe('offline');
    const events = await eventsOf(t, 'agent.joined,agent.left,agent.status_changed', 'night-owl');
    expect(events.map((e) => (e.type === 'agent.status_changed' ? `${e.data.from}>${e.data.to}:${e.data.reason}` : e.type))).toEqual([
      'agent.joined',
      'offline>idle:joined',
      'idle>offline:heartbeat timeout',
      'offline>idle:heartbeat',
      'idle>offline:left',
      'agent.left',
    ]);
    // a second key works, DELETE revokes every key and announces agent.left
    const second = await as(t, operatorKey).post('/api/agents/night-owl/keys').expect(201);
    expect(second.body.apiKey).toMatchObject({ role: 'agent', agentId: 'night-owl' });
    await as(t, second.body.key).post('/api/agents/me/join', {}).expect(200);
    const removed = await as(t, operatorKey).delete('/api/agents/night-owl').expect(200);
    expect(removed.body.status).toBe('offline');
    await as(t, key).post('/api/agents/me/heartbeat').expect(401);
    await as(t, second.body.key).post('/api/agents/me/heartbeat').expect(401);
    const last = await eventsOf(t, 'agent.left', 'night-owl');
    expect((last[last.length - 1].data as Record<string, unknown>).reason).toBe('removed');
    const list = await as(t, viewerKey).get('/api/agents').expect(200);
    expect(list.body.items.some((a: { id: string }) => a.id === 'night-owl')).toBe(true);
    expect(typeof list.body.headSeq).toBe('number');
  });

  it('agent ids: slug of the name, uuid when the slug is unusable; names are unique', async () => {
    const dup = await as(t, operatorKey).post('/api/agents', { name: 'Night Owl' }).expect(409);
    expect(dup.body.code).toBe('swarm/agent_name_taken');
    const b = await as(t, operatorKey).post('/api/agents', { name: 'night owl!' }).expect(201);
    expect(b.body.agent.id).toMatch(/^[0-9a-f-]{36}$/);
    const c = await as(t, operatorKey).post('/api/agents', { name: '!!!' }).expect(201);
    expect(c.body.agent.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  // Agents below stay offline (never joined) so the heartbeat monitor cannot write while counts are compared.
  it('bad input on agent endpoints is 4xx and writes nothing', async () => {
    const agent = await enrollAgent(t, 'Validator', { join: false });
    const before = await swarmCounts(t);
    const cases: [string, string, unknown, string, number][] = [
      ['post', '/api/agents', {}, operatorKey, 400],
      ['post', '/api/agents', { name: 7 }, operatorKey, 400],
      ['post', '/api/agents', { name: '' }, operatorKey, 400],
      ['post', '/api/agents', { name: '   ' }, operatorKey, 400],
      ['post', '/api/agents', { name: 'x'.repeat(65) }, operatorKey, 400],
      ['post', '/api/agents', { name: 'ok', capabilities: 'research' }, operatorKey, 400],
      ['post', '/api/agents', { name: 'ok', capabilities: [1, 2] }, operatorKey, 400],
      ['post', '/api/agents', { name: 'ok', capabilities: Array.from({ length: 33 }, (_, i) => `c${i}`) }, operatorKey, 400],
      ['post', '/api/agents', { name: 'ok', capabilities: ['x'.repeat(65)] }, operatorKey, 400],
      ['post', '/api/agents', { name: 'ok', role: 'admin' }, operatorKey, 400],
      ['post', '/api/agents', { name: 'Validator' }, operatorKey, 409],
      ['post', '/api/agents', { name: 'viewer try' }, viewerKey, 403],
      ['post', '/api/agents/no-such-agent/keys', undefined, operatorKey, 404],
      ['post', '/api/agents/bad.id/keys', undefined, operatorKey, 400],
      ['delete', '/api/agents/no-such-agent', undefined, operatorKey, 404],
      ['delete', `/api/agents/${'x'.repeat(65)}`, undefined, operatorKey, 400],
      ['delete', `/api/agents/${agent.id}`, undefined, viewerKey, 403],
      ['delete', `/api/agents/${agent.id}`, undefined, agent.key, 403],
      ['get', '/api/agents/no-such-agent', undefined, viewerKey, 404],
      ['get', '/api/agents/bad%20id', undefined, viewerKey, 400],
      ['post', '/api/agents/me/join', { capabilities: 'all' }, agent.key, 400],
      ['post', '/api/agents/me/join', { capabilities: Array.from({ length: 40 }, (_, i) => `c${i}`) }, agent.key, 400],
    ];
    for (const [method, path, body, key, status] of cases) {
      const c = as(t, key);
      const res = method === 'get' ? await c.get(path) : method === 'delete' ? await c.delete(path) : await c.post(path, body);
      expect({ path, body, status: res.status }).toEqual({ path, body, status });
      expect(res.body.code).toEqual(expect.stringMatching(/^[a-z_-]+\/[a-z_]+$/));
    }
    expect(await swarmCounts(t)).toEqual(before);
  });

  it('documents the swarm endpoints in OpenAPI', async () => {
    const doc = (await as(t, viewerKey).get('/api/docs-json').expect(200)).body;
    for (const path of ['/api/agents', '/api/agents/{id}/keys', '/api/personas/{personaId}/spawn', '/api/tasks/{id}/bids', '/api/messages', '/api/questions/{id}/answer', '/api/swarm/status']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/api/tasks/{id}/bids'].post.responses['409']).toBeDefined();
  });

  it('/me routes need an agent key', async () => {
    const r = await as(t, operatorKey).post('/api/agents/me/heartbeat').expect(403);
    expect(r.body.code).toBe('auth/forbidden');
    const a = await as(t, t.adminKey).post('/api/agents/me/join', {}).expect(403);
    expect(a.body.code).toBe('swarm/agent_role_required');
    await as(t, viewerKey).post('/api/agents/me/leave').expect(403);
  });

  it('messages: sent by agents or operators, delivered by the recipient, agents see only their own', async () => {
    const alice = await enrollAgent(t, 'Alice', { join: false });
    const bob = await enrollAgent(t, 'Bob', { join: false });
    const carol = await enrollAgent(t, 'Carol', { join: false });
    const sent = await as(t, alice.key).post('/api/messages', { toAgentId: bob.id, body: 'hello bob, please review task 7' }).expect(201);
    expect(sent.body).toMatchObject({ fromAgentId: alice.id, toAgentId: bob.id, status: 'sent', deliveredAt: null });
    const fromOp = await as(t, operatorKey).post('/api/messages', { toAgentId: carol.id, body: 'operator note' }).expect(201);
    expect(fromOp.body.fromAgentId).toBeNull();
    await as(t, alice.key).post(`/api/messages/${sent.body.id}/delivered`).expect(403);
    const delivered = await as(t, bob.key).post(`/api/messages/${sent.body.id}/delivered`).expect(200);
    expect(delivered.body.status).toBe('delivered');
    expect(Date.parse(delivered.body.deliveredAt)).toBeGreaterThan(0);
    await as(t, bob.key).post(`/api/messages/${sent.body.id}/delivered`).expect(200);
    const evs = await eventsOf(t, 'message.sent,message.delivered', bob.id);
    expect(evs.map((e) => e.type)).toEqual(['message.sent', 'message.delivered']);
    expect(evs[0].data).toMatchObject({ toAgentId: bob.id, fromAgentId: alice.id, bodyPreview: 'hello bob, please review task 7' });
    expect(evs[0].source).toBe(`agent:${alice.id}`);
    expect(evs[1].source).toBe(`agent:${bob.id}`);
    const carolView = await as(t, carol.key).get('/api/messages').expect(200);
    expect(carolView.body.items.map((m: { id: string }) => m.id)).toEqual([fromOp.body.id]);
    const opView = await as(t, viewerKey).get(`/api/messages?agentId=${bob.id}&status=delivered`).expect(200);
    expect(opView.body.items.map((m: { id: string }) => m.id)).toEqual([sent.body.id]);
    const before = await swarmCounts(t);
    await as(t, alice.key).post('/api/messages', { toAgentId: 'nobody-here', body: 'x' }).expect(404);
    await as(t, alice.key).post('/api/messages', { toAgentId: bob.id }).expect(400);
    await as(t, alice.key).post('/api/messages', { toAgentId: bob.id, body: '' }).expect(400);
    await as(t, alice.key).post('/api/messages', { toAgentId: bob.id, body: 'x'.repeat(10_001) }).expect(400);
    await as(t, alice.key).post('/api/messages', { toAgentId: 'bad id', body: 'x' }).expect(400);
    await as(t, alice.key).post('/api/messages', { toAgentId: bob.id, body: 5 }).expect(400);
    await as(t, viewerKey).post('/api/messages', { toAgentId: bob.id, body: 'x' }).expect(403);
    await as(t, bob.key).post('/api/messages/00000000-0000-4000-8000-000000000000/delivered').expect(404);
    await as(t, bob.key).post('/api/messages/bad.id/delivered').expect(400);
    await as(t, viewerKey).get('/api/messages?status=lost').expect(400);
    expect(await swarmCounts(t)).toEqual(before);
  });

  it('questions: asked, answered with validation, cancelled, expired by deadline', async () => {
    const asker = await enrollAgent(t, 'Asker', { join: false });
    const other = await enrollAgent(t, 'Other Agent', { join: false });
    const q1 = await as(t, asker.key).post('/api/questions', { question: 'Deploy now?', options: ['yes', 'no'] }).expect(201);
    expect(q1.body).toMatchObject({ status: 'open', agentId: asker.id, multiple: false, options: ['yes', 'no'] });
    const before = await swarmCounts(t);
    const bad1 = await as(t, operatorKey).post(`/api/questions/${q1.body.id}/answer`, { answer: ['maybe'] }).expect(400);
    expect(bad1.body.code).toBe('swarm/invalid_answer');
    await as(t, operatorKey).post(`/api/questions/${q1.body.id}/answer`, { answer: ['yes', 'no'] }).expect(400);
    await as(t, operatorKey).post(`/api/questions/${q1.body.id}/answer`, { answer: [] }).expect(400);
    await as(t, operatorKey).post(`/api/questions/${q1.body.id}/answer`, { answer: 'yes' }).expect(400);
    await as(t, viewerKey).post(`/api/questions/${q1.body.id}/answer`, { answer: ['yes'] }).expect(403);
    await as(t, asker.key).post(`/api/questions/${q1.body.id}/answer`, { answer: ['yes'] }).expect(403);
    const notAsker = await as(t, other.key).post(`/api/questions/${q1.body.id}/cancel`).expect(403);
    expect(notAsker.body.code).toBe('swarm/not_asker');
    await as(t, asker.key).post('/api/questions', { question: 'x', options: [] }).expect(400);
    await as(t, asker.key).post('/api/questions', { question: 'x', options: ['a', 'a'] }).expect(400);
    await as(t, asker.key).post('/api/questions', { question: '', options: ['a'] }).expect(400);
    await as(t, asker.key).post('/api/questions', { question: 'x', options: ['a'], deadline: '2001-01-01T00:00:00.000Z' }).expect(400);
    await as(t, asker.key).post('/api/questions', { question: 'x', options: ['a'], deadline: 'tomorrow' }).expect(400);
    await as(t, asker.key).post('/api/questions', { question: 'x', options: ['a'], multiple: 'yes' }).expect(400);
    await as(t, asker.key).post('/api/questions', { question: 'x', options: ['a'], taskId: '00000000-0000-4000-8000-000000000000' }).expect(404);
    await as(t, operatorKey).post('/api/questions', { question: 'x', options: ['a'] }).expect(403);
    await as(t, operatorKey).post('/api/questions/00000000-0000-4000-8000-000000000000/answer', { answer: ['a'] }).expect(404);
    await as(t, viewerKey).get('/api/questions/bad.id').expect(400);
    await as(t, viewerKey).get('/api/questions?status=weird').expect(400);
    expect(await swarmCounts(t)).toEqual(before);

    const answered = await as(t, operatorKey).post(`/api/questions/${q1.body.id}/answer`, { answer: ['yes'] }).expect(200);
    expect(answered.body).toMatchObject({ status: 'answered', answer: ['yes'], answeredBy: expect.stringMatching(/^operator/) });
    const twice = await as(t, operatorKey).post(`/api/questions/${q1.body.id}/answer`, { answer: ['no'] }).expect(409);
    expect(twice.body.code).toBe('swarm/question_not_open');

    const q2 = await as(t, asker.key).post('/api/questions', { question: 'Which regions?', options: ['eu', 'us', 'ap'], multiple: true }).expect(201);
    const multi = await as(t, operatorKey).post(`/api/questions/${q2.body.id}/answer`, { answer: ['eu', 'ap'] }).expect(200);
    expect(multi.body.answer).toEqual(['eu', 'ap']);

    const q3 = await as(t, asker.key).post('/api/questions', { question: 'Cancel me', options: ['ok'] }).expect(201);
    await as(t, asker.key).post(`/api/questions/${q3.body.id}/cancel`).expect(200);
    const q4 = await as(t, asker.key).post('/api/questions', { question: 'Operator cancels', options: ['ok'] }).expect(201);
    const c4 = await as(t, operatorKey).post(`/api/questions/${q4.body.id}/cancel`).expect(200);
    expect(c4.body.status).toBe('cancelled');

    const deadline = new Date(Date.now() + 300).toISOString();
    const q5 = await as(t, asker.key).post('/api/questions', { question: 'Quick!', options: ['a', 'b'], deadline }).expect(201);
    const expired = await waitFor(async () => {
      const r = await as(t, viewerKey).get(`/api/questions/${q5.body.id}`);
      return r.body.status === 'expired' ? r.body : null;
    }, 3000);
    expect(Date.parse(expired.resolvedAt)).toBeGreaterThanOrEqual(Date.parse(deadline));
    await as(t, operatorKey).post(`/api/questions/${q5.body.id}/answer`, { answer: ['a'] }).expect(409);

    const evs = await eventsOf(t, 'question.asked,question.answered,question.cancelled,question.expired', asker.id);
    expect(evs.map((e) => e.type)).toEqual([
      'question.asked',
      'question.answered',
      'question.asked',
      'question.answered',
      'question.asked',
      'question.cancelled',
      'question.asked',
      'question.cancelled',
      'question.asked',
      'question.expired',
    ]);
    expect(evs[0].data).toMatchObject({ question: 'Deploy now?', options: ['yes', 'no'], multiple: false, deadline: null });
    expect(evs[1].data).toMatchObject({ answer: ['yes'] });
    expect(evs.every((e) => e.channel === 'questions')).toBe(true);
    const open = await as(t, viewerKey).get('/api/questions?status=expired').expect(200);
    expect(open.body.items.map((q: { id: string }) => q.id)).toContain(q5.body.id);
  });
});
