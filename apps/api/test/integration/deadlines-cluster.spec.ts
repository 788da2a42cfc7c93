import { eventLog } from '../support/event-log';
import { as, enrollAgent, sleep } from '../support/swarm-helpers';
import { createPgDatabase, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * The deadline scheduler across instances (issue 7 section 3; BRIEF section 5): three API instances on one
 * PostgreSQL arm the same auction deadlines (their own and, through the sweep, the others'); every auction closes
 * exactly once, including those whose creating instance shut down before the window ended.
 */
describe('deadlines and the hash chain across three instances (PostgreSQL)', () => {
  let pg: { url: string; drop(): Promise<void> };
  const apps: TestApp[] = [];

  beforeAll(async () => {
    pg = await createPgDatabase();
    for (let i = 0; i < 3; i++) apps.push(await startTestApp({ DATABASE_URL: pg.url, DEADLINE_SWEEP_MS: 150, SPAWN_PERSONAS: '' }, 'postgres'));
  }, 60_000);
  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await pg?.drop();
  });

  it('each auction closes once, whichever instance created it, even after that instance is gone', async () => {
    const [a, b, c] = apps;
    const bidder = await enrollAgent(a, `dl${Date.now() % 100000}`);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const on = apps[i % 3];
      const res = await as(on, on.adminKey).post('/api/tasks', { description: `deadline ${i}`, auctionWindowMs: 3000 }).expect(201);
      ids.push(res.body.id as string);
      await as(apps[(i + 1) % 3], bidder.key).post(`/api/tasks/${res.body.id}/bids`, { bidSats: 10 + i }).expect(201);
    }
    // every instance learns every deadline through its sweep
    await sleep(400);
    // the instance that created a third of the tasks goes away before their windows end
    await a.close();
    const log = eventLog(b.app);
    await waitFor(async () => {
      const closed = await log.find({ types: ['auction.closed'] }, 1000);
      return ids.every((id) => closed.some((e) => e.taskId === id)) ? true : null;
    }, 15_000);
    await sleep(600); // any duplicate close would have committed by now
    const closed = await log.find({ types: ['auction.closed'] }, 1000);
    const assigned = await log.find({ types: ['task.assigned'] }, 1000);
    for (const id of ids) {
      expect(closed.filter((e) => e.taskId === id)).toHaveLength(1);
      expect(assigned.filter((e) => e.taskId === id)).toHaveLength(1);
    }
    const tasks = await Promise.all(ids.map((id) => as(c, c.adminKey).get(`/api/tasks/${id}`).expect(200)));
    expect(tasks.map((r) => r.body.status)).toEqual(ids.map(() => 'assigned'));
  }, 60_000);

  it('the two remaining instances appending at once keep one hash chain in seq order', async () => {
    const live = apps.slice(1);
    await Promise.all(
      Array.from({ length: 90 }, (_, i) => {
        const on = live[i % live.length];
        return as(on, on.adminKey).post('/api/events', { type: 'tool.called', data: { name: 'chain', i } }).expect(201);
      }),
    );
    const res = await as(live[0], live[0].adminKey).get('/api/events/verify').expect(200);
    expect(res.body).toMatchObject({ ok: true, firstBreak: null });
    expect(res.body.checked).toBeGreaterThanOrEqual(90);
  }, 60_000);
});
