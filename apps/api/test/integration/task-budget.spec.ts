import request from 'supertest';
import { DataSource } from 'typeorm';
import { TaskBudget1764400000010 } from '../../src/database/migrations/1764400000010-TaskBudget';
import { as, enrollAgent, swarmCounts, taskEvents, sleep } from '../support/swarm-helpers';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * Task budgets (issue 8 section 3, "tasks may carry a budget"): `POST /api/tasks {budgetSats}` (integer sats,
 * 1..1,000,000) stores the budget on the task; a bid above it is refused with 409 `swarm/bid_over_budget` and a
 * `bid.rejected` event (with `budgetSats`), a bid at the budget is accepted and can win; bad budgets are 400 and
 * write nothing; Swagger documents the field on the request and on the task.
 */
const WINDOW = 800;

describe.each(databaseKinds())('task budgets (%s)', (db) => {
  let t: TestApp;
  let operatorKey: string;
  let a1: { id: string; key: string };
  let a2: { id: string; key: string };

  beforeAll(async () => {
    t = await startTestApp({ AUCTION_WINDOW_MS: 2000, SPAWN_PERSONAS: '' }, db);
    operatorKey = await createUserKey(t, 'operator');
    a1 = await enrollAgent(t, 'Budget Bidder One');
    a2 = await enrollAgent(t, 'Budget Bidder Two');
  });
  afterAll(() => t.close());

  const waitStatus = (id: string, status: string) =>
    waitFor(async () => {
      const r = await as(t, t.adminKey).get(`/api/tasks/${id}`);
      return r.body.status === status ? r.body : null;
    }, 5000);

  it('stores the budget on the task and names it in task.created', async () => {
    const created = await as(t, operatorKey).post('/api/tasks', { description: 'budgeted research', budgetSats: 100, auctionWindowMs: 60_000 }).expect(201);
    expect(created.body).toMatchObject({ status: 'bidding', budgetSats: 100 });
    expect((await as(t, t.adminKey).get(`/api/tasks/${created.body.id}`).expect(200)).body.budgetSats).toBe(100);
    const listed = (await as(t, t.adminKey).get('/api/tasks?status=bidding').expect(200)).body.items;
    expect(listed.find((x: { id: string }) => x.id === created.body.id).budgetSats).toBe(100);
    const [ev] = (await taskEvents(t, created.body.id)).filter((e) => e.type === 'task.created');
    expect(ev.data).toMatchObject({ description: 'budgeted research', budgetSats: 100 });

    const plain = await as(t, operatorKey).post('/api/tasks', { description: 'no budget', auctionWindowMs: 60_000 }).expect(201);
    expect(plain.body.budgetSats).toBeNull();
    const [plainEv] = (await taskEvents(t, plain.body.id)).filter((e) => e.type === 'task.created');
    expect(plainEv.data).not.toHaveProperty('budgetSats');
    // no budget: any bid in the bid range is accepted
    await as(t, a1.key).post(`/api/tasks/${plain.body.id}/bids`, { bidSats: 1_000_000 }).expect(201);
  });

  it('refuses a bid above the budget with 409 swarm/bid_over_budget and bid.rejected; a bid at the budget wins', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'translate the manual', budgetSats: 100, auctionWindowMs: WINDOW }).expect(201)).body;
    const before = await swarmCounts(t);
    const over = await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 101 }).expect(409);
    expect(over.body).toMatchObject({ statusCode: 409, code: 'swarm/bid_over_budget' });
    expect(over.body.message).toMatch(/101 sats exceeds the task's budget of 100 sats/);
    const after = await swarmCounts(t);
    // the refusal wrote one event and no bid
    expect(after).toEqual({ ...before, event_log: before.event_log + 1 });
    const rejected = (await taskEvents(t, task.id)).filter((e) => e.type === 'bid.rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      channel: 'swarm',
      agentId: a1.id,
      taskId: task.id,
      source: `agent:${a1.id}`,
      data: { code: 'swarm/bid_over_budget', reason: 'bid over budget', bidSats: 101, budgetSats: 100 },
    });

    // the refused agent may still bid within the budget; another bids exactly the budget
    await as(t, a1.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 100 }).expect(201);
    await sleep(5);
    await as(t, a2.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 100 }).expect(201);
    const done = await waitStatus(task.id, 'assigned');
    // ties go to the earliest bid
    expect(done).toMatchObject({ assignedAgentId: a1.id, winningBidSats: 100, budgetSats: 100 });
    expect(done.bids).toHaveLength(2);
    const types = (await taskEvents(t, task.id)).map((e) => e.type);
    expect(types).toEqual(['task.created', 'task.bidding', 'bid.rejected', 'bid.submitted', 'bid.submitted', 'auction.closed', 'task.assigned']);
  });

  it('other refusals keep their own codes and carry no budgetSats', async () => {
    const task = (await as(t, operatorKey).post('/api/tasks', { description: 'dup bids', budgetSats: 50, auctionWindowMs: 60_000 }).expect(201)).body;
    await as(t, a2.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 40 }).expect(201);
    const dup = await as(t, a2.key).post(`/api/tasks/${task.id}/bids`, { bidSats: 60 }).expect(409);
    expect(dup.body.code).toBe('swarm/duplicate_bid');
    const rejected = (await taskEvents(t, task.id)).filter((e) => e.type === 'bid.rejected');
    expect(rejected.map((e) => e.data)).toEqual([{ reason: 'duplicate bid', bidSats: 60, code: 'swarm/duplicate_bid' }]);
  });

  it.each([
    ['zero', 0],
    ['negative', -5],
    ['fractional', 1.5],
    ['a string', '100'],
    ['null', null],
    ['a boolean', true],
    ['above the bid range', 1_000_001],
    ['an object', { sats: 5 }],
  ])('refuses a budget that is %s with 400 and writes nothing', async (_name, budgetSats) => {
    const before = await swarmCounts(t);
    const res = await as(t, operatorKey).post('/api/tasks', { description: 'bad budget', budgetSats }).expect(400);
    expect(res.body.code).toMatch(/^[a-z][a-z0-9-]*\/[a-z][a-z0-9_]*$/);
    expect(String(res.body.message)).toMatch(/budgetSats/);
    expect(await swarmCounts(t)).toEqual(before);
  });

  it('documents budgetSats in Swagger on the create request and on the task', async () => {
    const doc = (await request(t.url).get('/api/docs-json').expect(200)).body as {
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>>; required?: string[] }> };
    };
    const create = doc.components.schemas.CreateTaskDto;
    expect(create.properties.budgetSats).toMatchObject({ type: 'number', minimum: 1, maximum: 1_000_000 });
    expect(create.required ?? []).not.toContain('budgetSats');
    expect(String(create.properties.budgetSats.description)).toMatch(/swarm\/bid_over_budget/);
    expect(doc.components.schemas.TaskResponseDto.properties.budgetSats).toMatchObject({ type: 'number', nullable: true });
  });

  it('the migration is applied: tasks.budgetSats exists', async () => {
    const ds = t.app.get(DataSource);
    const qr = ds.createQueryRunner();
    try {
      expect(await qr.hasColumn('tasks', 'budgetSats')).toBe(true);
      const applied: { name: string }[] = await qr.query(`SELECT name FROM migrations`);
      expect(applied.map((r) => r.name)).toContain('TaskBudget1764400000010');
    } finally {
      await qr.release();
    }
  });
});

describe.each(databaseKinds())('TaskBudget migration down and up (%s)', (db) => {
  it('drops and re-adds the column on a database with tasks', async () => {
    const t = await startTestApp({ SPAWN_PERSONAS: '' }, db);
    try {
      await as(t, t.adminKey).post('/api/tasks', { description: 'kept across down/up', budgetSats: 7, auctionWindowMs: 60_000 }).expect(201);
      const ds = t.app.get(DataSource);
      const qr = ds.createQueryRunner();
      try {
        const m = new TaskBudget1764400000010();
        await m.down(qr);
        expect(await qr.hasColumn('tasks', 'budgetSats')).toBe(false);
        await m.up(qr);
        expect(await qr.hasColumn('tasks', 'budgetSats')).toBe(true);
        const rows: { description: string; budgetSats: number | null }[] = await qr.query(`SELECT description, "budgetSats" FROM tasks`);
        expect(rows).toEqual([{ description: 'kept across down/up', budgetSats: null }]);
      } finally {
        await qr.release();
      }
    } finally {
      await t.close();
    }
  }, 30_000);
});
