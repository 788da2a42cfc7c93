import { EventLogWriter } from '../../src/event-log/event-log.writer';
import { as } from '../support/swarm-helpers';
import { databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * `GET /api/events` filters added for the dashboard (issue 12): `taskId` takes the short id the Events table shows
 * (a unique prefix), and `excludeType` leaves scheduled types out of the activity feed.
 */
describe.each(databaseKinds())('event filters: task id prefix and excludeType (%s)', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUCTION_WINDOW_MS: 60_000 }, db);
  });
  afterAll(() => t.close());

  const list = (query: string) => as(t, t.adminKey).get(`/api/events?${query}`);

  it('an 8-character task id prefix finds the task events; upper case too; a full id still matches exactly', async () => {
    const task = (await as(t, t.adminKey).post('/api/tasks', { description: 'find me by my short id' }).expect(201)).body as { id: string };
    await as(t, t.adminKey).post('/api/tasks', { description: 'another task' }).expect(201);
    const full = (await list(`taskId=${task.id}&after=0`).expect(200)).body.items;
    expect(full.map((e: { type: string }) => e.type)).toEqual(['task.created', 'task.bidding']);
    const short = task.id.slice(0, 8);
    const byPrefix = (await list(`taskId=${short}&after=0`).expect(200)).body.items;
    expect(byPrefix).toEqual(full);
    expect((await list(`taskId=${short.toUpperCase()}&after=0`).expect(200)).body.items).toEqual(full);
    // the export takes the same filter
    const ndjson = (await as(t, t.adminKey).get(`/api/events/export?taskId=${short}`).expect(200)).text.trim().split('\n');
    expect(ndjson.map((l) => JSON.parse(l).seq)).toEqual(full.map((e: { seq: number }) => e.seq));
    // shorter than 4 characters: exact match only (finds nothing)
    expect((await list(`taskId=${task.id.slice(0, 3)}`).expect(200)).body.items).toEqual([]);
    // a prefix of no task: nothing, no error
    expect((await list('taskId=zzzzzzzz').expect(200)).body.items).toEqual([]);
  });

  it('an ambiguous prefix is a clear 400; LIKE wildcards in the prefix are literal', async () => {
    const writer = t.app.get(EventLogWriter);
    for (const id of ['abcd0000-0000-4000-8000-000000000001', 'abcd0000-0000-4000-8000-000000000002']) {
      await writer.append([{ type: 'task.created', source: 'test', taskId: id, data: { description: 'twin', createdBy: 'test' } }]);
    }
    const r = await list('taskId=abcd0000').expect(400);
    expect(r.body).toMatchObject({ statusCode: 400, code: 'event-log/ambiguous_task_prefix' });
    expect(r.body.message).toContain('abcd0000');
    expect((await list('taskId=abcd0000-0000-4000-8000-000000000001').expect(200)).body.items).toHaveLength(1);
    expect((await list('taskId=abcd0000-0000-4000-8000-0000000000').expect(400)).body.code).toBe('event-log/ambiguous_task_prefix');
    // '_' is a LIKE wildcard: taken literally, it matches no task id
    expect((await list('taskId=abcd_000').expect(200)).body.items).toEqual([]);
  });

  it('excludeType leaves the listed types out; bad types are a 400', async () => {
    const all = (await list('after=0&limit=1000').expect(200)).body.items as { type: string }[];
    expect(all.some((e) => e.type === 'task.bidding')).toBe(true);
    const without = (await list('after=0&limit=1000&excludeType=task.bidding,router.metrics_flushed').expect(200)).body.items as { type: string }[];
    expect(without.length).toBe(all.filter((e) => e.type !== 'task.bidding' && e.type !== 'router.metrics_flushed').length);
    expect(without.some((e) => e.type === 'task.bidding' || e.type === 'router.metrics_flushed')).toBe(false);
    const bad = await list('excludeType=no.such_type').expect(400);
    expect(bad.body.statusCode).toBe(400);
  });
});
