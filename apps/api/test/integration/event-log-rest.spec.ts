import type { LooseEnvelope as EventEnvelope, LooseNewEvent as NewEvent } from '../support/event-log';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { eventLog, type TestEventLog } from '../support/event-log';
import { createUserKey, databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, embedded commas and newlines) into rows of strings. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(databaseKinds())('events REST (%s)', (db) => {
  let t: TestApp;
  let events: TestEventLog;
  let auth: string;
  let viewerKey: string;
  let operatorKey: string;
  const run = `rest${Date.now()}`;
  let batchA: EventEnvelope[];
  let batchB: EventEnvelope[];
  let boundary: string;
  let endOfB: string;

  const get = (path: string, key = auth) => request(t.url).get(path).set('authorization', `Bearer ${key}`);

  beforeAll(async () => {
    t = await startTestApp({}, db);
    events = eventLog(t.app);
    auth = t.adminKey;
    viewerKey = await createUserKey(t, 'viewer');
    operatorKey = await createUserKey(t, 'operator');
    const mk = (type: NewEvent['type'], i: number, extra: Partial<NewEvent> = {}): NewEvent => ({
      type,
      source: i % 2 ? `${run}-coordinator` : `${run}-auction`,
      taskId: `${run}-task-${i % 3}`,
      agentId: `${run}-agent-${i % 4}`,
      data: { run, i },
      ...extra,
    });
    batchA = await events.append(Array.from({ length: 12 }, (_, i) => mk(i % 2 ? 'task.created' : 'bid.submitted', i)));
    await sleep(15);
    boundary = new Date().toISOString();
    await sleep(15);
    batchB = await events.append([
      ...Array.from({ length: 7 }, (_, i) => mk('task.assigned', 100 + i)),
      ...Array.from({ length: 3 }, (_, i) => mk('system.warning', 200 + i, { taskId: null, agentId: null })),
      mk('tool.completed', 300, { data: { run, csv: 'comma, "quote" and\nnewline', nested: { a: [1, 2] } } }),
    ]);
    await sleep(15);
    endOfB = new Date().toISOString();
  });
  afterAll(() => t.close());

  it('lists with filters: type (one or several), source, agentId, taskId, channel, from/to', async () => {
    const all = [...batchA, ...batchB];
    const expectIds = (items: EventEnvelope[], want: EventEnvelope[]) =>
      expect(items.map((e) => e.seq)).toEqual(want.map((e) => e.seq).sort((a, b) => b - a));

    let res = await get(`/api/events?type=task.created&source=${run}-coordinator&limit=1000`).expect(200);
    expectIds(res.body.items, all.filter((e) => e.type === 'task.created' && e.source === `${run}-coordinator`));

    res = await get(`/api/events?type=task.created,bid.submitted&limit=1000&from=${encodeURIComponent(batchA[0].createdAt)}&to=${encodeURIComponent(boundary)}`).expect(200);
    expectIds(res.body.items, batchA);

    res = await get(`/api/events?agentId=${run}-agent-1&limit=1000`).expect(200);
    expectIds(res.body.items, all.filter((e) => e.agentId === `${run}-agent-1`));

    res = await get(`/api/events?taskId=${run}-task-2&type=task.assigned`).expect(200);
    expectIds(res.body.items, batchB.filter((e) => e.taskId === `${run}-task-2` && e.type === 'task.assigned'));

    res = await get(`/api/events?channel=system&from=${encodeURIComponent(boundary)}`).expect(200);
    expectIds(res.body.items, batchB.filter((e) => e.channel === 'system'));
    expect(res.body.items).toHaveLength(3);

    res = await get(`/api/events?from=${encodeURIComponent(boundary)}&to=${encodeURIComponent(endOfB)}&limit=1000`).expect(200);
    expectIds(res.body.items, batchB);

    // the same instant written with a zone offset selects the same window
    const shifted = new Date(Date.parse(boundary) + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    res = await get(`/api/events?from=${encodeURIComponent(shifted)}&to=${encodeURIComponent(endOfB)}&limit=1000`).expect(200);
    expectIds(res.body.items, batchB);

    expect(res.body.headSeq).toBeGreaterThanOrEqual(batchB[batchB.length - 1].seq);
    expect(res.body.epoch).toBe(events.epoch);
    for (const e of res.body.items as EventEnvelope[]) {
      expect(typeof e.data).toBe('object');
      expect(e.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });

  it('every list endpoint returns the head seq it was read at and the epoch (BRIEF 4.6)', async () => {
    for (const path of ['/api/events?limit=1', '/api/tasks', '/api/agents', '/api/messages', '/api/questions']) {
      const head = await events.getHeadSeq();
      const res = await get(path).expect(200);
      expect({ path, headSeq: typeof res.body.headSeq, epoch: res.body.epoch }).toEqual({ path, headSeq: 'number', epoch: events.epoch });
      expect(res.body.headSeq).toBeGreaterThanOrEqual(head);
      expect(Array.isArray(res.body.items)).toBe(true);
    }
  });

  it('pages by seq in both directions with nextCursor, no duplicates and nothing skipped', async () => {
    const filter = `source=${run}-coordinator`;
    const want = [...batchA, ...batchB].filter((e) => e.source === `${run}-coordinator`).map((e) => e.seq);
    expect(want.length).toBeGreaterThan(6);

    const desc: number[] = [];
    let cursor: number | null = null;
    let pages = 0;
    do {
      const res: request.Response = await get(`/api/events?${filter}&limit=3${cursor !== null ? `&before=${cursor}` : ''}`).expect(200);
      desc.push(...res.body.items.map((e: EventEnvelope) => e.seq));
      cursor = res.body.nextCursor;
      if (cursor !== null) expect(cursor).toBe(res.body.items[res.body.items.length - 1].seq);
      pages++;
    } while (cursor !== null && pages < 50);
    expect(desc).toEqual([...want].sort((a, b) => b - a));

    const asc: number[] = [];
    cursor = 0;
    pages = 0;
    do {
      const res: request.Response = await get(`/api/events?${filter}&limit=4&after=${cursor}`).expect(200);
      asc.push(...res.body.items.map((e: EventEnvelope) => e.seq));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 50);
    expect(asc).toEqual([...want].sort((a, b) => a - b));

    // after + before together: a window between two seqs
    const lo = want[1];
    const hi = want[want.length - 2];
    const res = await get(`/api/events?${filter}&after=${lo}&before=${hi}&limit=1000`).expect(200);
    expect(res.body.items.map((e: EventEnvelope) => e.seq).sort((a: number, b: number) => a - b)).toEqual(want.filter((s) => s > lo && s < hi));
  });

  it('gets one event by id; 404 for an unknown uuid, 400 for a malformed id', async () => {
    const e = batchB[batchB.length - 1];
    const res = await get(`/api/events/${e.id}`).expect(200);
    expect(res.body).toEqual(e);
    expect(res.body.data).toEqual({ run, csv: 'comma, "quote" and\nnewline', nested: { a: [1, 2] } });
    const missing = await get(`/api/events/${randomUUID()}`).expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, code: 'event-log/not_found' });
    const bad = await get('/api/events/not-a-uuid').expect(400);
    expect(bad.body).toMatchObject({ statusCode: 400, code: expect.stringMatching(/^[a-z-]+\/[a-z_]+$/) });
    expect(typeof bad.body.message).toBe('string');
    // a viewer reads events too
    await get(`/api/events/${e.id}`, viewerKey).expect(200);
  });

  it('summarises counts per type for a window', async () => {
    const res = await get(`/api/events/summary?from=${encodeURIComponent(boundary)}&to=${encodeURIComponent(endOfB)}`).expect(200);
    expect(res.body.counts).toEqual({ 'task.assigned': 7, 'system.warning': 3, 'tool.completed': 1 });
    expect(res.body.total).toBe(11);
    expect(res.body.from).toBe(boundary);
    expect(res.body.headSeq).toBeGreaterThanOrEqual(batchB[batchB.length - 1].seq);
    // offset form of the same window gives the same counts
    const shifted = new Date(Date.parse(endOfB) - 3_600_000).toISOString().replace('Z', '-01:00');
    const res2 = await get(`/api/events/summary?from=${encodeURIComponent(boundary)}&to=${encodeURIComponent(shifted)}`).expect(200);
    expect(res2.body.counts).toEqual(res.body.counts);
    // default window: the last 60 minutes include everything seeded
    const recent = await get('/api/events/summary').expect(200);
    expect(recent.body.counts['task.created']).toBeGreaterThanOrEqual(6);
    expect(recent.body.counts['task.assigned']).toBeGreaterThanOrEqual(7);
    const byMinutes = await get('/api/events/summary?minutes=5').expect(200);
    expect(byMinutes.body.counts['system.warning']).toBeGreaterThanOrEqual(3);
    // an inverted window is refused
    const bad = await get(`/api/events/summary?from=${encodeURIComponent(endOfB)}&to=${encodeURIComponent(boundary)}`).expect(400);
    expect(bad.body.code).toBe('event-log/bad_window');
  });

  it('exports NDJSON in seq order with the filters applied', async () => {
    const res = await get(`/api/events/export?format=ndjson&from=${encodeURIComponent(batchA[0].createdAt)}&to=${encodeURIComponent(endOfB)}&source=${run}-auction`)
      .buffer(true)
      .parse((r, cb) => {
        let s = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (s += c));
        r.on('end', () => cb(null, s));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="events-.*\.ndjson"/);
    const lines = (res.body as string).split('\n');
    expect(lines.pop()).toBe('');
    const parsed = lines.map((l) => JSON.parse(l) as EventEnvelope);
    const want = [...batchA, ...batchB].filter((e) => e.source === `${run}-auction`);
    expect(parsed).toEqual(want);
  });

  it('exports CSV that parses back to the same events (quotes, commas, newlines in data)', async () => {
    const res = await get(`/api/events/export?format=csv&from=${encodeURIComponent(boundary)}&to=${encodeURIComponent(endOfB)}`)
      .buffer(true)
      .parse((r, cb) => {
        let s = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (s += c));
        r.on('end', () => cb(null, s));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    const rows = parseCsv(res.body as string);
    expect(rows[0]).toEqual(['seq', 'id', 'type', 'source', 'channel', 'taskId', 'agentId', 'data', 'createdAt']);
    const back = rows.slice(1).map((r) => ({
      seq: Number(r[0]),
      id: r[1],
      type: r[2],
      source: r[3],
      channel: r[4],
      taskId: r[5] === '' ? null : r[5],
      agentId: r[6] === '' ? null : r[6],
      data: JSON.parse(r[7]) as Record<string, unknown>,
      createdAt: r[8],
    }));
    expect(back).toEqual(batchB);
  });

  it('ingest: an agent key appends tool.* events attributed to it; other types 400; viewers 403', async () => {
    const enrolled = await request(t.url)
      .post('/api/agents')
      .set('authorization', `Bearer ${operatorKey}`)
      .send({ name: `Scout ${run}`, capabilities: ['research'] })
      .expect(201);
    const agentId = enrolled.body.agent.id as string;
    const agentKey = enrolled.body.key as string;
    expect(agentKey).toMatch(/^mck_/);

    const res = await request(t.url)
      .post('/api/events')
      .set('authorization', `Bearer ${agentKey}`)
      .send({ type: 'tool.called', taskId: `${run}-task-0`, data: { tool: 'web_search', input: 'lightning fees' } })
      .expect(201);
    expect(res.body).toMatchObject({
      type: 'tool.called',
      agentId,
      source: `agent:${agentId}`,
      taskId: `${run}-task-0`,
      channel: 'swarm',
      data: { tool: 'web_search', input: 'lightning fees' },
    });
    expect((await events.getById(res.body.id)).agentId).toBe(agentId);
    for (const type of ['tool.completed', 'tool.failed']) {
      await request(t.url).post('/api/events').set('authorization', `Bearer ${agentKey}`).send({ type }).expect(201);
    }
    const mine = await get(`/api/events?agentId=${agentId}&type=tool.called,tool.completed,tool.failed`).expect(200);
    expect(mine.body.items.map((e: EventEnvelope) => e.type).sort()).toEqual(['tool.called', 'tool.completed', 'tool.failed']);

    const head = await events.getHeadSeq();
    for (const body of [
      { type: 'task.completed' },
      { type: 'system.error', data: { message: 'spoofed' } },
      { type: 'tool.called', agentId: 'someone-else' },
      { type: 'tool.called', data: 'not an object' },
      { type: 'tool.called', data: [1, 2] },
      { type: 'tool.called', taskId: 'has spaces' },
      {},
    ]) {
      const r = await request(t.url).post('/api/events').set('authorization', `Bearer ${agentKey}`).send(body).expect(400);
      expect(r.body).toMatchObject({ statusCode: 400, code: expect.any(String), message: expect.any(String) });
    }
    const denied = await request(t.url).post('/api/events').set('authorization', `Bearer ${viewerKey}`).send({ type: 'tool.called' }).expect(403);
    expect(denied.body.code).toBe('auth/forbidden');
    await request(t.url).post('/api/events').send({ type: 'tool.called' }).expect(401);
    const after = await events.find({ after: head }, 100, 'asc');
    expect(after.filter((e) => e.type.startsWith('tool.') || e.type === 'task.completed' || e.type === 'system.error')).toEqual([]);

    // an operator key may ingest too (operator scripts); the event is attributed to the user, not to an agent
    const op = await request(t.url).post('/api/events').set('authorization', `Bearer ${operatorKey}`).send({ type: 'tool.failed', data: { error: 'x' } }).expect(201);
    expect(op.body.agentId).toBeNull();
    expect(op.body.source).toMatch(/^user:/);
  });
});
