import { as, enrollAgent, swarmCounts, taskEvents, sleep } from '../support/swarm-helpers';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/** Window of auctions that receive several bids (room for a loaded CI machine); empty auctions use 300 ms. */
const WINDOW = 600;
const SHORT_WINDOW = 300;

describe.each(databaseKinds())('swarm auctions and tasks (%s)', (db) => {
  let t: TestApp;
  let operatorKey: string;
  let viewerKey: string;
  let a1: { id: string; key: string };
  let a2: { id: string; key: string };
  let a3: { id: string; key: string };

  beforeAll(async () => {
    t = await startTestApp({ AUCTION_WINDOW_MS: 2000 }, db);
    operatorKey = await createUserKey(t, 'operator');
    viewerKey = await createUserKey(t, 'viewer');
    a1 = await enrollAgent(t, 'Bidder One');
    a2 = await enrollAgent(t, 'Bidder Two');
    a3 = await enrollAgent(t, 'Bidder Three');
  });
  afterAll(() => t.close());

  const waitStatus = (id: string, status: string) =>
    waitFor(async () => {
      const r = await as(t, t.adminKey).get(`/api/tasks/${id}`);
      return r.body.status === status ? r.body : null;
    }, 5000);

  it('enrolled agents get slug ids and agent keys', () => {
    expect(a1.id).toBe('bidder-one');
    expect(a1.key).toMatch(/^mck_/);
  });

  it('lowest bid wins; auction closes on time with auction.closed then task.assigned', async () => {
    const created = await as(t, operatorKey).post('/api/tasks', { description: 'compile the report', auctionWindowMs: WINDOW }).expect(201);
    const task = created.body;
    expect(task.status).toBe('bidding');
    expect(Date.parse(task.auctionClosesAt) - Date.parse(task.createdAt)).toBe(WINDOW);
    await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 42 }).expect(201);
    await as(t, a2.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 35 }).expect(201);
    await as(t, a3.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 50 }).expect(201);
    const done = await waitStatus(task.id, 'assigned');
    expect(done.assignedAgentId).toBe(a2.id);
    expect(done.winningBidSats).toBe(35);
    expect(done.bids.find((b: { agentId: string }) => b.agentId === a2.id).won).toBe(true);
    expect(done.bids.filter((b: { won: boolean }) => b.won)).toHaveLength(1);
    // closed on time: assignment shortly after the window, not seconds later
    expect(Date.parse(done.assignedAt) - Date.parse(task.auctionClosesAt)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(done.assignedAt) - Date.parse(task.auctionClosesAt)).toBeLessThan(1000);
    const types = (await taskEvents(t, task.id)).map((e) => e.type);
    expect(types).toEqual(['task.created', 'task.bidding', 'bid.submitted', 'bid.submitted', 'bid.submitted', 'auction.closed', 'task.assigned']);
    const events = await taskEvents(t, task.id);
    expect(events[1].data).toMatchObject({ closesAt: task.auctionClosesAt, windowMs: WINDOW });
    expect(events[5].data).toEqual(expect.objectContaining({ winnerAgentId: a2.id, winningBidSats: 35, bidCount: 3 }));
    expect(events[6]).toMatchObject({ agentId: a2.id, source: 'coordinator', data: { bidSats: 35 } });
    const agent = await as(t, t.adminKey).get(`/api/agents/${a2.id}`).expect(200);
    expect(agent.body.status).toBe('busy');
    // the winner works the task: start, progress, complete -> idle again
    await as(t, a1.key).post(`/api/tasks/${task.id}/start`).expect(403);
    await as(t, a2.key).post(`/api/tasks/${task.id}/start`).expect(200);
    await as(t, a2.key).post(`/api/tasks/${task.id}/progress`, { message: 'half way', fraction: 0.5 }).expect(204);
    const completed = await as(t, a2.key).post(`/api/tasks/${task.id}/complete`, { result: 'the report' }).expect(200);
    expect(completed.body).toMatchObject({ status: 'completed', result: 'the report' });
    const again = await as(t, a2.key).post(`/api/tasks/${task.id}/complete`, { result: 'x' }).expect(409);
    expect(again.body).toMatchObject({ code: 'swarm/invalid_transition' });
    expect(again.body.message).toContain('completed');
    expect((await as(t, t.adminKey).get(`/api/agents/${a2.id}`)).body.status).toBe('idle');
    const after = (await taskEvents(t, task.id)).map((e) => e.type).slice(7);
    expect(after).toEqual(['task.started', 'task.progress', 'task.completed']);
    const statusEvents = await as(t, t.adminKey).get(`/api/events?type=agent.status_changed&agentId=${a2.id}&after=0`).expect(200);
    expect(statusEvents.body.items.map((e: { data: { from: string; to: string } }) => `${e.data.from}>${e.data.to}`)).toEqual(
      expect.arrayContaining(['idle>busy', 'busy>idle']),
    );
  });

  it('ties go to the earliest bid', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'tie break', auctionWindowMs: WINDOW }).expect(201)).body;
    await as(t, a3.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 20 }).expect(201);
    await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 20 }).expect(201);
    const done = await waitStatus(task.id, 'assigned');
    expect(done.assignedAgentId).toBe(a3.id);
    await as(t, a3.key).post(`/api/tasks/${task.id}/fail`, { reason: 'could not' }).expect(200);
  });

  it('late, duplicate, offline and not-bidding bids are refused with a reason and bid.rejected', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'late bids', auctionWindowMs: WINDOW }).expect(201)).body;
    await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 30 }).expect(201);
    const dup = await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 25 }).expect(409);
    expect(dup.body.code).toBe('swarm/duplicate_bid');
    const gone = await enrollAgent(t, 'Offline Bidder', { join: false });
    const off = await as(t, gone.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 10 }).expect(409);
    expect(off.body.code).toBe('swarm/agent_offline');
    // the clock decides: sleep past closesAt and bid (timer may or may not have fired)
    await sleep(Date.parse(task.auctionClosesAt) - Date.now() + 5);
    const late = await as(t, a2.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 1 }).expect(409);
    expect(late.body).toMatchObject({ code: 'swarm/auction_closed', message: `auction closed at ${task.auctionClosesAt}` });
    const done = await waitStatus(task.id, 'assigned');
    expect(done.assignedAgentId).toBe(a1.id);
    expect(done.bids).toHaveLength(1);
    const rejected = (await taskEvents(t, task.id)).filter((e) => e.type === 'bid.rejected');
    expect(rejected.map((e) => e.data.reason)).toEqual(['duplicate bid', 'agent offline', 'auction closed']);
    expect(rejected.map((e) => e.data.bidSats)).toEqual([25, 10, 1]);
    // a direct task is never bidding
    const direct = (await as(t, operatorKey).post('/api/tasks', { description: 'direct', agentId: a3.id }).expect(201)).body;
    const nb = await as(t, a2.key).post(`/api/tasks/${direct.id}/bids`, { bidSats: 5 }).expect(409);
    expect(nb.body.code).toBe('swarm/task_not_bidding');
    expect((await taskEvents(t, direct.id)).find((e) => e.type === 'bid.rejected')?.data.reason).toBe('task not bidding');
    await as(t, operatorKey).post(`/api/tasks/${direct.id}/cancel`, { reason: 'test done' }).expect(200);
    await as(t, a1.key).post(`/api/tasks/${task.id}/complete`, { result: 'ok' }).expect(200);
  });

  it('the deadline holds while the process is busy: a bid sent during a stall past closesAt is refused', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'busy process', auctionWindowMs: WINDOW }).expect(201)).body;
    await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 40 }).expect(201);
    // a bid is issued, then the event loop stalls (CPU-bound work) until well past the deadline: the close timer
    // and the bid are both handled late, and the clock, not the order they run in, decides
    const pending = as(t, a2.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 2 }).then((r) => r);
    const until = Date.parse(task.auctionClosesAt) + 150;
    while (Date.now() < until) {
      // busy: neither the close timer nor the HTTP request can run
    }
    const res = await pending;
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'swarm/auction_closed' });
    const done = await waitStatus(task.id, 'assigned');
    expect(done).toMatchObject({ assignedAgentId: a1.id, winningBidSats: 40 });
    expect(done.bids.map((b: { agentId: string }) => b.agentId)).toEqual([a1.id]);
    await as(t, a1.key).post(`/api/tasks/${task.id}/complete`, { result: 'ok' }).expect(200);
  });

  it('no bids -> failed "no bids received"', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'nobody wants this', auctionWindowMs: SHORT_WINDOW }).expect(201)).body;
    const done = await waitStatus(task.id, 'failed');
    expect(done.failureReason).toBe('no bids received');
    const events = await taskEvents(t, task.id);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.bidding', 'auction.closed', 'task.failed']);
    expect(events[2].data).toMatchObject({ winnerAgentId: null, bidCount: 0 });
    expect(events[3].data).toMatchObject({ reason: 'no bids received' });
  });

  it('direct assignment skips the auction; operators may complete; offline/unknown agents are refused', async () => {
    const task = (await as(t, a1.key).post('/api/tasks', { description: 'do it directly', agentId: a2.id }).expect(201)).body;
    expect(task).toMatchObject({ status: 'assigned', assignedAgentId: a2.id, createdBy: a1.id, auctionClosesAt: null });
    const events = await taskEvents(t, task.id);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.assigned']);
    expect(events[1].data).toMatchObject({ direct: true });
    expect(events[0].source).toBe(`agent:${a1.id}`);
    const byOp = await as(t, operatorKey).post(`/api/tasks/${task.id}/complete`, { result: 'done by operator' }).expect(200);
    expect(byOp.body.status).toBe('completed');
    const offline = await enrollAgent(t, 'Never Joined', { join: false });
    const before = await swarmCounts(t);
    const r1 = await as(t, operatorKey).post('/api/tasks', { description: 'x', agentId: offline.id }).expect(400);
    expect(r1.body.code).toBe('swarm/agent_offline');
    const r2 = await as(t, operatorKey).post('/api/tasks', { description: 'x', agentId: 'no-such-agent' }).expect(404);
    expect(r2.body.code).toBe('swarm/agent_not_found');
    expect(await swarmCounts(t)).toEqual(before);
  });

  it('cancel by operators only; invalid transitions report the current status', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'to cancel', auctionWindowMs: 60_000 }).expect(201)).body;
    await as(t, a1.key).post(`/api/tasks/${task.id}/cancel`, {}).expect(403);
    await as(t, viewerKey).post(`/api/tasks/${task.id}/cancel`, {}).expect(403);
    const c = await as(t, operatorKey).post(`/api/tasks/${task.id}/cancel`, {}).expect(200);
    expect(c.body.status).toBe('cancelled');
    const again = await as(t, operatorKey).post(`/api/tasks/${task.id}/cancel`, {}).expect(409);
    expect(again.body).toMatchObject({ code: 'swarm/invalid_transition' });
    expect(again.body.message).toContain('cancelled');
    const late = await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 5 }).expect(409);
    expect(late.body.code).toBe('swarm/task_not_bidding');
    const started = await as(t, a1.key).post(`/api/tasks/${task.id}/start`).expect(403);
    expect(started.body.code).toBe('swarm/not_assignee');
  });

  it('unknown task ids are 404 (the prototype answered 200)', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const r = await as(t, viewerKey).get(`/api/tasks/${id}`).expect(404);
    expect(r.body).toEqual({ statusCode: 404, code: 'swarm/task_not_found', message: expect.any(String) });
    await as(t, a1.key).post(`/api/tasks/${id}/bids`, { bidSats: 5 }).expect(404);
    await as(t, a1.key).post(`/api/tasks/${id}/start`).expect(404);
    await as(t, operatorKey).post(`/api/tasks/${id}/complete`, { result: 'x' }).expect(404);
    await as(t, operatorKey).post(`/api/tasks/${id}/fail`, { reason: 'x' }).expect(404);
    await as(t, operatorKey).post(`/api/tasks/${id}/cancel`, {}).expect(404);
  });

  it('bad input on task endpoints is 4xx and writes nothing', async () => {
    const open = (await as(t, operatorKey).post('/api/tasks', { description: 'bad input target', auctionWindowMs: 60_000 }).expect(201)).body;
    const before = await swarmCounts(t);
    const cases: [string, string, unknown, number][] = [
      ['post', '/api/tasks', {}, 400],
      ['post', '/api/tasks', { description: 42 }, 400],
      ['post', '/api/tasks', { description: '' }, 400],
      ['post', '/api/tasks', { description: '   ' }, 400],
      ['post', '/api/tasks', { description: 'x'.repeat(10_001) }, 400],
      ['post', '/api/tasks', { description: 'x', auctionWindowMs: 50 }, 400],
      ['post', '/api/tasks', { description: 'x', auctionWindowMs: 3_600_001 }, 400],
      ['post', '/api/tasks', { description: 'x', auctionWindowMs: 500.5 }, 400],
      ['post', '/api/tasks', { description: 'x', auctionWindowMs: '500' }, 400],
      ['post', '/api/tasks', { description: 'x', agentId: 'bad id!' }, 400],
      ['post', '/api/tasks', { description: 'x', extra: true }, 400],
      ['post', `/api/tasks/${open.id}/bids`, {}, 400],
      ['post', `/api/tasks/${open.id}/bids`, { bidSats: -5 }, 400],
      ['post', `/api/tasks/${open.id}/bids`, { bidSats: 0 }, 400],
      ['post', `/api/tasks/${open.id}/bids`, { bidSats: 1.5 }, 400],
      ['post', `/api/tasks/${open.id}/bids`, { bidSats: 1_000_001 }, 400],
      ['post', `/api/tasks/${open.id}/bids`, { bidSats: 1e300 }, 400],
      ['post', `/api/tasks/${open.id}/bids`, { bidSats: '10' }, 400],
      ['post', `/api/tasks/${open.id}/bids`, { bidSats: null }, 400],
      ['post', '/api/tasks/bad%20id/bids', { bidSats: 10 }, 400],
      ['post', `/api/tasks/${'a'.repeat(65)}/bids`, { bidSats: 10 }, 400],
      ['post', `/api/tasks/${open.id}/progress`, { message: 'x', fraction: 2 }, 400],
      ['post', `/api/tasks/${open.id}/complete`, {}, 400],
      ['post', `/api/tasks/${open.id}/fail`, { reason: '' }, 400],
      ['post', `/api/tasks/${open.id}/cancel`, { reason: 7 }, 400],
      ['get', '/api/tasks/bad.id', undefined, 400],
      ['get', '/api/tasks?status=nope', undefined, 400],
      ['get', '/api/tasks?limit=0', undefined, 400],
      ['get', '/api/tasks?limit=abc', undefined, 400],
      ['get', '/api/tasks?agentId=bad%20id', undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const key = path.includes('/bids') || path.includes('/progress') ? a1.key : operatorKey;
      const client = as(t, key);
      const res = method === 'get' ? await client.get(path) : await client.post(path, body);
      expect({ path, body, status: res.status }).toEqual({ path, body, status });
      expect(res.body.code).toEqual(expect.stringMatching(/^[a-z_-]+\/[a-z_]+$/));
    }
    // wrong roles / principals
    await as(t, viewerKey).post('/api/tasks', { description: 'x' }).expect(403);
    await as(t, operatorKey).post(`/api/tasks/${open.id}/bids`, { bidSats: 10 }).expect(403);
    const adminBid = await as(t, t.adminKey).post(`/api/tasks/${open.id}/bids`, { bidSats: 10 }).expect(403);
    expect(adminBid.body.code).toBe('swarm/agent_role_required');
    expect(await swarmCounts(t)).toEqual(before);
  });

  it('lists tasks newest first with headSeq read before the rows; status endpoint counts', async () => {
    const list = await as(t, viewerKey).get('/api/tasks?limit=3').expect(200);
    expect(list.body.items).toHaveLength(3);
    expect(typeof list.body.headSeq).toBe('number');
    expect(typeof list.body.epoch).toBe('string');
    const times = list.body.items.map((x: { createdAt: string }) => x.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    const completed = await as(t, viewerKey).get(`/api/tasks?status=completed&agentId=${a2.id}`).expect(200);
    expect(completed.body.items.length).toBeGreaterThanOrEqual(2);
    expect(completed.body.items.every((x: { status: string; assignedAgentId: string }) => x.status === 'completed' && x.assignedAgentId === a2.id)).toBe(true);
    const status = await as(t, viewerKey).get('/api/swarm/status').expect(200);
    expect(status.body.tasksByStatus.completed).toBeGreaterThanOrEqual(3);
    expect(status.body.tasksTotal).toBe(Object.values(status.body.tasksByStatus as Record<string, number>).reduce((a, b) => a + b, 0));
    expect(status.body.agents).toBeGreaterThanOrEqual(3);
    const health = await as(t, viewerKey).get('/api/health').expect(200);
    expect(list.body.headSeq).toBeLessThanOrEqual(health.body.headSeq);
  });
});
