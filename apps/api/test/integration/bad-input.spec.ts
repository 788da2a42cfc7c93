import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createUserKey, databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * Bad input on every endpoint (issue section 10): missing fields, wrong types, unknown fields, huge bodies,
 * malformed JSON, unknown ids and bad query parameters get a 4xx `{ statusCode, code, message }` with a stable
 * `domain/reason` code, and nothing is written (every table and the event log keep their row counts).
 */

type Who = 'admin' | 'operator' | 'viewer' | 'agent';
interface Case {
  name: string;
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  who?: Who;
  /** JSON body, or a raw string sent as application/json. */
  body?: unknown;
  raw?: string;
  status: number;
  code?: string;
}

const TABLES = ['event_log', 'users', 'api_keys', 'sessions', 'agents', 'tasks', 'bids', 'agent_messages', 'operator_questions'];
const CODE = /^[a-z][a-z0-9-]*\/[a-z][a-z0-9_]*$/;
const HUGE = 'x'.repeat(300 * 1024);
const U = randomUUID();

/** Every JSON-accepting write endpoint gets the two body-level attacks. */
const BODY_ENDPOINTS: { method: 'post' | 'patch'; path: string; who: Who }[] = [
  { method: 'post', path: '/api/auth/login', who: 'admin' },
  { method: 'post', path: '/api/events', who: 'agent' },
  { method: 'post', path: '/api/users', who: 'admin' },
  { method: 'patch', path: `/api/users/${U}`, who: 'admin' },
  { method: 'post', path: '/api/api-keys', who: 'admin' },
  { method: 'post', path: '/api/agents', who: 'operator' },
  { method: 'post', path: '/api/agents/me/join', who: 'agent' },
  { method: 'post', path: '/api/tasks', who: 'operator' },
  { method: 'post', path: '/api/tasks/some-task/bids', who: 'agent' },
  { method: 'post', path: '/api/tasks/some-task/progress', who: 'agent' },
  { method: 'post', path: '/api/tasks/some-task/complete', who: 'operator' },
  { method: 'post', path: '/api/tasks/some-task/fail', who: 'operator' },
  { method: 'post', path: '/api/tasks/some-task/cancel', who: 'operator' },
  { method: 'post', path: '/api/messages', who: 'operator' },
  { method: 'post', path: '/api/questions', who: 'agent' },
  { method: 'post', path: '/api/questions/some-q/answer', who: 'operator' },
];

const CASES: Case[] = [
  ...BODY_ENDPOINTS.flatMap((e): Case[] => [
    { name: `${e.method} ${e.path}: malformed JSON`, ...e, raw: '{"a": 1,', status: 400, code: 'request/malformed_json' },
    { name: `${e.method} ${e.path}: body over 256 kB`, ...e, body: { description: HUGE, name: HUGE }, status: 413, code: 'request/payload_too_large' },
  ]),

  // events: query parameters
  ...[
    'limit=0',
    'limit=abc',
    'limit=100000',
    'limit=1&limit=2',
    'type=task.exploded',
    'type=task.created,nope',
    'channel=nowhere',
    'from=yesterday',
    'to=2026-13-45T00:00:00Z',
    'after=-1',
    'before=1.5',
    'agentId=has%20spaces',
    'taskId=' + 'x'.repeat(65),
    'unknownParam=1',
  ].map((q): Case => ({ name: `GET /api/events?${q.slice(0, 30)}`, method: 'get', path: `/api/events?${q}`, status: 400 })),
  { name: 'summary minutes=0', method: 'get', path: '/api/events/summary?minutes=0', status: 400 },
  { name: 'summary minutes=lots', method: 'get', path: '/api/events/summary?minutes=lots', status: 400 },
  { name: 'summary from=garbage', method: 'get', path: '/api/events/summary?from=garbage', status: 400 },
  { name: 'summary inverted window', method: 'get', path: '/api/events/summary?from=2026-02-01T00:00:00.000Z&to=2026-01-01T00:00:00.000Z', status: 400, code: 'event-log/bad_window' },
  { name: 'export format=xml', method: 'get', path: '/api/events/export?format=xml', status: 400 },
  { name: 'export bad type', method: 'get', path: '/api/events/export?type=x', status: 400 },
  { name: 'event unknown uuid', method: 'get', path: `/api/events/${U}`, status: 404, code: 'event-log/not_found' },
  { name: 'event malformed id', method: 'get', path: '/api/events/12345', status: 400 },

  // events: ingest body
  { name: 'ingest missing type', method: 'post', path: '/api/events', who: 'agent', body: { data: {} }, status: 400 },
  { name: 'ingest type number', method: 'post', path: '/api/events', who: 'agent', body: { type: 42 }, status: 400 },
  { name: 'ingest non-tool type', method: 'post', path: '/api/events', who: 'agent', body: { type: 'task.completed' }, status: 400 },
  { name: 'ingest data string', method: 'post', path: '/api/events', who: 'agent', body: { type: 'tool.called', data: '{"a":1}' }, status: 400 },
  { name: 'ingest unknown field', method: 'post', path: '/api/events', who: 'agent', body: { type: 'tool.called', source: 'spoofed' }, status: 400 },
  { name: 'ingest bad taskId', method: 'post', path: '/api/events', who: 'agent', body: { type: 'tool.called', taskId: '../../etc' }, status: 400 },
  { name: 'ingest body is an array', method: 'post', path: '/api/events', who: 'agent', body: [{ type: 'tool.called' }], status: 400 },
  { name: 'ingest by a viewer', method: 'post', path: '/api/events', who: 'viewer', body: { type: 'tool.called' }, status: 403, code: 'auth/forbidden' },

  // auth
  { name: 'login empty body', method: 'post', path: '/api/auth/login', body: {}, status: 400 },
  { name: 'login wrong types', method: 'post', path: '/api/auth/login', body: { username: 5, password: ['x'] }, status: 400 },
  { name: 'login unknown field', method: 'post', path: '/api/auth/login', body: { username: 'admin', password: 'whatever-123', remember: true }, status: 400 },
  { name: 'login huge password field', method: 'post', path: '/api/auth/login', body: { username: 'admin', password: 'p'.repeat(10_000) }, status: 400 },

  // users
  { name: 'user missing password', method: 'post', path: '/api/users', body: { username: 'newuser', role: 'viewer' }, status: 400 },
  { name: 'user short password', method: 'post', path: '/api/users', body: { username: 'newuser', password: 'short', role: 'viewer' }, status: 400 },
  { name: 'user bad role', method: 'post', path: '/api/users', body: { username: 'newuser', password: 'a-long-password', role: 'root' }, status: 400 },
  { name: 'user bad username', method: 'post', path: '/api/users', body: { username: 'no spaces please', password: 'a-long-password', role: 'viewer' }, status: 400 },
  { name: 'user username number', method: 'post', path: '/api/users', body: { username: 12345, password: 'a-long-password', role: 'viewer' }, status: 400 },
  { name: 'user unknown field', method: 'post', path: '/api/users', body: { username: 'newuser', password: 'a-long-password', role: 'viewer', isAdmin: true }, status: 400 },
  { name: 'user duplicate username', method: 'post', path: '/api/users', body: { username: 'admin', password: 'a-long-password', role: 'viewer' }, status: 409, code: 'auth/username_taken' },
  { name: 'patch unknown user', method: 'patch', path: `/api/users/${U}`, body: { role: 'viewer' }, status: 404, code: 'auth/user_not_found' },
  { name: 'patch malformed user id', method: 'patch', path: '/api/users/not-a-uuid', body: { role: 'viewer' }, status: 400 },
  { name: 'patch disabled not boolean', method: 'patch', path: `/api/users/${U}`, body: { disabled: 'yes' }, status: 400 },
  { name: 'users as operator', method: 'post', path: '/api/users', who: 'operator', body: { username: 'newuser', password: 'a-long-password', role: 'viewer' }, status: 403 },

  // api keys
  { name: 'key empty body', method: 'post', path: '/api/api-keys', body: {}, status: 400 },
  { name: 'key bad role', method: 'post', path: '/api/api-keys', body: { label: 'x', role: 'superuser' }, status: 400 },
  { name: 'key long label', method: 'post', path: '/api/api-keys', body: { label: 'l'.repeat(500), role: 'viewer' }, status: 400 },
  { name: 'key role agent', method: 'post', path: '/api/api-keys', body: { label: 'x', role: 'agent' }, status: 400 },
  { name: 'key unknown field', method: 'post', path: '/api/api-keys', body: { label: 'x', role: 'viewer', secret: 'mine' }, status: 400 },
  { name: 'key above own role', method: 'post', path: '/api/api-keys', who: 'viewer', body: { label: 'x', role: 'admin' }, status: 403 },
  { name: 'revoke unknown key', method: 'delete', path: `/api/api-keys/${U}`, status: 404, code: 'auth/key_not_found' },
  { name: 'revoke malformed key id', method: 'delete', path: '/api/api-keys/xyz', status: 400 },

  // swarm: agents & personas
  { name: 'enroll empty', method: 'post', path: '/api/agents', who: 'operator', body: {}, status: 400 },
  { name: 'enroll name number', method: 'post', path: '/api/agents', who: 'operator', body: { name: 7 }, status: 400 },
  { name: 'enroll blank name', method: 'post', path: '/api/agents', who: 'operator', body: { name: '   ' }, status: 400 },
  { name: 'enroll long name', method: 'post', path: '/api/agents', who: 'operator', body: { name: 'n'.repeat(65) }, status: 400 },
  { name: 'enroll capabilities string', method: 'post', path: '/api/agents', who: 'operator', body: { name: 'ok', capabilities: 'research' }, status: 400 },
  { name: 'enroll unknown field', method: 'post', path: '/api/agents', who: 'operator', body: { name: 'ok', role: 'admin' }, status: 400 },
  { name: 'enroll as viewer', method: 'post', path: '/api/agents', who: 'viewer', body: { name: 'ok' }, status: 403 },
  { name: 'enroll taken name', method: 'post', path: '/api/agents', who: 'operator', body: { name: 'Bad Input Agent' }, status: 409, code: 'swarm/agent_name_taken' },
  { name: 'unknown agent', method: 'get', path: '/api/agents/no-such-agent', status: 404, code: 'swarm/agent_not_found' },
  { name: 'malformed agent id', method: 'get', path: '/api/agents/bad%20id', status: 400 },
  { name: 'keys for unknown agent', method: 'post', path: '/api/agents/no-such-agent/keys', who: 'operator', status: 404 },
  { name: 'delete unknown agent', method: 'delete', path: '/api/agents/no-such-agent', who: 'operator', status: 404 },
  { name: 'join as operator', method: 'post', path: '/api/agents/me/join', who: 'operator', body: {}, status: 403 },
  { name: 'join bad capabilities', method: 'post', path: '/api/agents/me/join', who: 'agent', body: { capabilities: [1, 2] }, status: 400 },
  { name: 'spawn unknown persona', method: 'post', path: '/api/personas/nobody/spawn', who: 'operator', status: 404 },
  { name: 'stop unknown persona', method: 'post', path: '/api/personas/nobody/stop', who: 'operator', status: 404 },

  // swarm: tasks
  { name: 'task empty', method: 'post', path: '/api/tasks', who: 'operator', body: {}, status: 400 },
  { name: 'task description number', method: 'post', path: '/api/tasks', who: 'operator', body: { description: 42 }, status: 400 },
  { name: 'task blank description', method: 'post', path: '/api/tasks', who: 'operator', body: { description: '  ' }, status: 400 },
  { name: 'task window too short', method: 'post', path: '/api/tasks', who: 'operator', body: { description: 'x', auctionWindowMs: 5 }, status: 400 },
  { name: 'task window not int', method: 'post', path: '/api/tasks', who: 'operator', body: { description: 'x', auctionWindowMs: '1000' }, status: 400 },
  { name: 'task unknown field', method: 'post', path: '/api/tasks', who: 'operator', body: { description: 'x', status: 'completed' }, status: 400 },
  { name: 'task for unknown agent', method: 'post', path: '/api/tasks', who: 'operator', body: { description: 'x', agentId: 'no-such-agent' }, status: 404 },
  { name: 'task as viewer', method: 'post', path: '/api/tasks', who: 'viewer', body: { description: 'x' }, status: 403 },
  { name: 'tasks bad status', method: 'get', path: '/api/tasks?status=exploded', status: 400 },
  { name: 'tasks bad limit', method: 'get', path: '/api/tasks?limit=-3', status: 400 },
  { name: 'tasks unknown param', method: 'get', path: '/api/tasks?sort=desc', status: 400 },
  { name: 'unknown task', method: 'get', path: `/api/tasks/${U}`, status: 404, code: 'swarm/task_not_found' },
  { name: 'malformed task id', method: 'get', path: '/api/tasks/a.b', status: 400 },
  { name: 'bid unknown task', method: 'post', path: `/api/tasks/${U}/bids`, who: 'agent', body: { bidSats: 10 }, status: 404 },
  { name: 'bid zero', method: 'post', path: `/api/tasks/${U}/bids`, who: 'agent', body: { bidSats: 0 }, status: 400 },
  { name: 'bid fraction', method: 'post', path: `/api/tasks/${U}/bids`, who: 'agent', body: { bidSats: 1.5 }, status: 400 },
  { name: 'bid string', method: 'post', path: `/api/tasks/${U}/bids`, who: 'agent', body: { bidSats: 'ten' }, status: 400 },
  { name: 'bid too high', method: 'post', path: `/api/tasks/${U}/bids`, who: 'agent', body: { bidSats: 2_000_000 }, status: 400 },
  { name: 'bid as operator', method: 'post', path: `/api/tasks/${U}/bids`, who: 'operator', body: { bidSats: 10 }, status: 403 },
  { name: 'start unknown task', method: 'post', path: `/api/tasks/${U}/start`, who: 'agent', status: 404 },
  { name: 'progress fraction 2', method: 'post', path: `/api/tasks/${U}/progress`, who: 'agent', body: { message: 'x', fraction: 2 }, status: 400 },
  { name: 'complete unknown task', method: 'post', path: `/api/tasks/${U}/complete`, who: 'operator', body: { result: 'done' }, status: 404 },
  { name: 'complete missing result', method: 'post', path: `/api/tasks/${U}/complete`, who: 'operator', body: {}, status: 400 },
  { name: 'fail missing reason', method: 'post', path: `/api/tasks/${U}/fail`, who: 'operator', body: {}, status: 400 },
  { name: 'cancel unknown task', method: 'post', path: `/api/tasks/${U}/cancel`, who: 'operator', body: {}, status: 404 },

  // swarm: messages & questions
  { name: 'message empty', method: 'post', path: '/api/messages', who: 'operator', body: {}, status: 400 },
  { name: 'message body too long', method: 'post', path: '/api/messages', who: 'operator', body: { toAgentId: 'x', body: 'b'.repeat(10_001) }, status: 400 },
  { name: 'message to unknown agent', method: 'post', path: '/api/messages', who: 'operator', body: { toAgentId: 'no-such-agent', body: 'hi' }, status: 404 },
  { name: 'messages bad status', method: 'get', path: '/api/messages?status=read', status: 400 },
  { name: 'deliver unknown message', method: 'post', path: `/api/messages/${U}/delivered`, who: 'agent', status: 404 },
  { name: 'question empty', method: 'post', path: '/api/questions', who: 'agent', body: {}, status: 400 },
  { name: 'question no options', method: 'post', path: '/api/questions', who: 'agent', body: { question: 'ok?', options: [] }, status: 400 },
  { name: 'question options not strings', method: 'post', path: '/api/questions', who: 'agent', body: { question: 'ok?', options: [1, 2] }, status: 400 },
  { name: 'question bad deadline', method: 'post', path: '/api/questions', who: 'agent', body: { question: 'ok?', options: ['y', 'n'], deadline: 'tomorrow' }, status: 400 },
  { name: 'question by operator', method: 'post', path: '/api/questions', who: 'operator', body: { question: 'ok?', options: ['y', 'n'] }, status: 403 },
  { name: 'questions bad status', method: 'get', path: '/api/questions?status=maybe', status: 400 },
  { name: 'unknown question', method: 'get', path: `/api/questions/${U}`, status: 404, code: 'swarm/question_not_found' },
  { name: 'answer unknown question', method: 'post', path: `/api/questions/${U}/answer`, who: 'operator', body: { answer: ['y'] }, status: 404 },
  { name: 'answer not an array', method: 'post', path: `/api/questions/${U}/answer`, who: 'operator', body: { answer: 'y' }, status: 400 },

  { name: 'heartbeat as operator', method: 'post', path: '/api/agents/me/heartbeat', who: 'operator', status: 403 },
  { name: 'leave as viewer', method: 'post', path: '/api/agents/me/leave', who: 'viewer', status: 403 },
  { name: 'restart unknown persona', method: 'post', path: '/api/personas/nobody/restart', who: 'operator', status: 404 },
  { name: 'restart malformed persona id', method: 'post', path: '/api/personas/no.body/restart', who: 'operator', status: 400 },
  { name: 'messages bad agentId', method: 'get', path: '/api/messages?agentId=a%20b', status: 400 },
  { name: 'messages limit too high', method: 'get', path: '/api/messages?limit=501', status: 400 },
  { name: 'questions limit zero', method: 'get', path: '/api/questions?limit=0', status: 400 },
  { name: 'events limit over max', method: 'get', path: '/api/events?limit=1001', status: 400 },
  { name: 'cancel unknown question', method: 'post', path: `/api/questions/${U}/cancel`, who: 'operator', status: 404 },

  // unknown routes
  { name: 'unknown route', method: 'get', path: '/api/nothing-here', status: 404 },
  { name: 'prototype partial route', method: 'get', path: '/swarm/events/partial', status: 404 },
];

describe.each(databaseKinds())('bad input (%s)', (db) => {
  let t: TestApp;
  const keys: Partial<Record<Who, string>> = {};

  async function counts(): Promise<Record<string, number>> {
    const ds = t.app.get(DataSource);
    const out: Record<string, number> = {};
    for (const table of TABLES) {
      // the LLM router's periodic metrics/probe events (router channel) are not written by the request under test
      const where = table === 'event_log' ? ` WHERE channel <> 'router'` : '';
      const rows: { n: number | string }[] = await ds.query(`SELECT COUNT(*) AS n FROM ${table}${where}`);
      out[table] = Number(rows[0].n);
    }
    return out;
  }

  beforeAll(async () => {
    // login attempts here are all malformed; keep the per-IP login limit out of the way of the cases
    t = await startTestApp({ LOGIN_RATE_LIMIT: 1000 }, db);
    keys.admin = t.adminKey;
    keys.operator = await createUserKey(t, 'operator');
    keys.viewer = await createUserKey(t, 'viewer');
    const enrolled = await request(t.url)
      .post('/api/agents')
      .set('authorization', `Bearer ${keys.operator}`)
      .send({ name: 'Bad Input Agent', capabilities: ['research'] })
      .expect(201);
    keys.agent = enrolled.body.key;
    // warm every key once so lastUsedAt bookkeeping is not counted as a write of a bad request
    for (const k of Object.values(keys)) await request(t.url).get('/api/auth/me').set('authorization', `Bearer ${k}`).expect(200);
  });
  afterAll(() => t.close());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await counts();
    let req = request(t.url)[c.method](c.path).set('authorization', `Bearer ${keys[c.who ?? 'admin']}`);
    if (c.raw !== undefined) req = req.set('content-type', 'application/json').send(c.raw);
    else if (c.body !== undefined) req = req.send(c.body as object);
    const res = await req;
    expect({ status: res.status, body: res.body }).toMatchObject({ status: c.status });
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ statusCode: c.status, code: expect.stringMatching(CODE), message: expect.any(String) });
    expect(res.body.message.length).toBeGreaterThan(0);
    expect(res.body.message.length).toBeLessThan(2000);
    if (c.code) expect(res.body.code).toBe(c.code);
    // nothing written: every table and the event log keep their row counts
    expect(await counts()).toEqual(before);
  });
});
