import { as, enrollAgent, swarmCounts, taskEvents } from '../support/swarm-helpers';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * Operator actions on a task (issue 12): assign to an agent while the auction is still open (the auction closes at
 * once), reassign an assigned task before it started, and the refusals (4xx, nothing changes).
 */
describe.each(databaseKinds())('assigning tasks (%s)', (db) => {
  let t: TestApp;
  let operatorKey: string;
  let viewerKey: string;
  let a1: { id: string; key: string };
  let a2: { id: string; key: string };

  beforeAll(async () => {
    t = await startTestApp({ AUCTION_WINDOW_MS: 60_000, LEDGER_TASK_PAYOUTS: 'off' }, db);
    operatorKey = await createUserKey(t, 'operator');
    viewerKey = await createUserKey(t, 'viewer');
    a1 = await enrollAgent(t, 'Assign One');
    a2 = await enrollAgent(t, 'Assign Two');
  });
  afterAll(() => t.close());

  const get = async (id: string) => (await as(t, t.adminKey).get(`/api/tasks/${id}`).expect(200)).body;

  it('mid-auction: the auction closes now, the chosen bidder wins with its own bid, the timer no longer fires', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'assign me mid-auction', auctionWindowMs: 1500 }).expect(201)).body;
    await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 10 }).expect(201);
    await as(t, a2.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 30 }).expect(201);
    // the operator picks the higher bidder before the window ends
    const res = await as(t, operatorKey).post(`/api/tasks/${task.id}/assign`, { agentId: a2.id }).expect(200);
    expect(res.body).toMatchObject({ status: 'assigned', assignedAgentId: a2.id, winningBidSats: 30 });
    const detail = await get(task.id);
    expect(detail.bids.find((b: { agentId: string }) => b.agentId === a2.id).won).toBe(true);
    expect(detail.bids.find((b: { agentId: string }) => b.agentId === a1.id).won).toBe(false);
    const events = await taskEvents(t, task.id);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.bidding', 'bid.submitted', 'bid.submitted', 'auction.closed', 'task.assigned']);
    expect(events[4].data).toMatchObject({ winnerAgentId: a2.id, winningBidSats: 30, bidCount: 2, assignedBy: expect.any(String) });
    expect(events[5]).toMatchObject({ agentId: a2.id, data: { bidSats: 30, direct: false, reassignedFrom: null } });
    expect((await as(t, t.adminKey).get(`/api/agents/${a2.id}`)).body.status).toBe('busy');
    // late bids are refused, and after the original window the timer closes nothing a second time
    await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 5 }).expect(409);
    await new Promise((r) => setTimeout(r, 1800));
    const after = await taskEvents(t, task.id);
    expect(after.filter((e) => e.type === 'auction.closed')).toHaveLength(1);
    expect((await get(task.id)).assignedAgentId).toBe(a2.id);
    await as(t, a2.key).post(`/api/tasks/${task.id}/complete`, { result: 'done' }).expect(200);
  });

  it('mid-auction to an agent that did not bid: a direct assignment (no bid, no payout)', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'nobody bid yet' }).expect(201)).body;
    const res = await as(t, operatorKey).post(`/api/tasks/${task.id}/assign`, { agentId: a1.id }).expect(200);
    expect(res.body).toMatchObject({ status: 'assigned', assignedAgentId: a1.id, winningBidSats: null });
    const events = await taskEvents(t, task.id);
    expect(events.slice(-2).map((e) => e.type)).toEqual(['auction.closed', 'task.assigned']);
    expect(events[events.length - 1].data).toMatchObject({ bidSats: null, direct: true });
    await as(t, a1.key).post(`/api/tasks/${task.id}/complete`, { result: 'ok' }).expect(200);
  });

  it('reassigns an assigned task before it started: the previous agent is released, the new one can start it', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'reassign me', agentId: a1.id }).expect(201)).body;
    expect((await as(t, t.adminKey).get(`/api/agents/${a1.id}`)).body.status).toBe('busy');
    await as(t, operatorKey).post(`/api/tasks/${task.id}/assign`, { agentId: a2.id }).expect(200);
    expect((await as(t, t.adminKey).get(`/api/agents/${a1.id}`)).body.status).toBe('idle');
    expect((await as(t, t.adminKey).get(`/api/agents/${a2.id}`)).body.status).toBe('busy');
    const last = (await taskEvents(t, task.id)).pop()!;
    expect(last).toMatchObject({ type: 'task.assigned', agentId: a2.id, data: { reassignedFrom: a1.id, direct: true } });
    // the previous assignee may no longer start it; the new one may
    await as(t, a1.key).post(`/api/tasks/${task.id}/start`).expect(403);
    await as(t, a2.key).post(`/api/tasks/${task.id}/start`).expect(200);
    // running: no reassignment
    const refused = await as(t, operatorKey).post(`/api/tasks/${task.id}/assign`, { agentId: a1.id }).expect(409);
    expect(refused.body).toMatchObject({ statusCode: 409, code: 'swarm/invalid_transition' });
    await as(t, a2.key).post(`/api/tasks/${task.id}/complete`, { result: 'ok' }).expect(200);
  });

  it('bad input and refusals: clear 4xx, nothing changes', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'refusals' }).expect(201)).body;
    const offline = await enrollAgent(t, 'Assign Offline', { join: false });
    const before = await swarmCounts(t);
    const cases: [string, unknown, string, number, string][] = [
      ['viewer', { agentId: a1.id }, viewerKey, 403, ''],
      ['agent key', { agentId: a1.id }, a1.key, 403, ''],
      ['no body', {}, operatorKey, 400, ''],
      ['bad agent id', { agentId: 'no such/agent' }, operatorKey, 400, ''],
      ['unknown agent', { agentId: 'nobody-here' }, operatorKey, 404, 'swarm/agent_not_found'],
      ['offline agent', { agentId: offline.id }, operatorKey, 400, 'swarm/agent_offline'],
    ];
    for (const [name, body, key, status, code] of cases) {
      const r = await as(t, key).post(`/api/tasks/${task.id}/assign`, body);
      expect([name, r.status]).toEqual([name, status]);
      if (code) expect([name, r.body.code]).toEqual([name, code]);
    }
    await as(t, operatorKey).post('/api/tasks/00000000-0000-4000-8000-000000000000/assign', { agentId: a1.id }).expect(404);
    expect(await swarmCounts(t)).toEqual(before);
    expect((await get(task.id)).status).toBe('bidding');
    // finished tasks cannot be assigned (repost instead)
    await as(t, operatorKey).post(`/api/tasks/${task.id}/cancel`, {}).expect(200);
    const done = await as(t, operatorKey).post(`/api/tasks/${task.id}/assign`, { agentId: a1.id }).expect(409);
    expect(done.body.message).toMatch(/cancelled/);
  });

  it('an operator assignment and the auction timer racing: exactly one closes the auction', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'race the timer', auctionWindowMs: 300 }).expect(201)).body;
    await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 7 }).expect(201);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(task.auctionClosesAt) - Date.now())));
    const r = await as(t, operatorKey).post(`/api/tasks/${task.id}/assign`, { agentId: a2.id });
    expect([200, 409]).toContain(r.status);
    const done = await waitFor(async () => ((await get(task.id)).status === 'assigned' ? get(task.id) : null), 5000);
    const closes = (await taskEvents(t, task.id)).filter((e) => e.type === 'auction.closed');
    expect(closes).toHaveLength(1);
    expect(done.assignedAgentId).toBe(r.status === 200 ? a2.id : a1.id);
    await as(t, done.assignedAgentId === a1.id ? a1.key : a2.key).post(`/api/tasks/${task.id}/complete`, { result: 'ok' }).expect(200);
  });
});
