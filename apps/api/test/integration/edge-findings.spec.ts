import { connect } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ADMIN_PASSWORD, createUserKey, databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * Findings 1 (edge part), 3-7 of issue 11's appendix (outside fuzz + security run), one test each: 500s on bad input,
 * writes on rejected/aborted input, the error shape of framework and parser errors, authorization gaps, null bodies,
 * text PostgreSQL cannot store. Every rejection is a 4xx `{ statusCode, code, message }` with the security headers,
 * and nothing is written (row counts of every table and the event log unchanged).
 */

const TABLES = ['event_log', 'users', 'api_keys', 'sessions', 'agents', 'tasks', 'bids', 'agent_messages', 'operator_questions'];
const CODE = /^[a-z][a-z0-9-]*\/[a-z][a-z0-9_]*$/;
const nested = (depth: number, leaf: unknown = 'x'): unknown => {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};
const nestedObject = (depth: number): Record<string, unknown> => {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

/** Sends raw bytes on a TCP connection; resolves with everything the server wrote before closing (or after `waitMs`). */
function rawHttp(url: string, payload: string | Buffer, opts: { closeAfterWrite?: boolean; waitMs?: number } = {}): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect({ host: u.hostname, port: Number(u.port) }, () => {
      s.write(payload, () => {
        if (opts.closeAfterWrite) s.destroy();
      });
    });
    const timer = setTimeout(() => s.destroy(), opts.waitMs ?? 5000);
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    s.on('error', (e) => (opts.closeAfterWrite ? undefined : reject(e)));
  });
}

function expectErrorShape(res: { status: number; body: unknown; headers: Record<string, string> }, status: number, code?: string): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  expect(res.body).toEqual({ statusCode: status, code: expect.stringMatching(CODE), message: expect.any(String) });
  if (code) expect((res.body as { code: string }).code).toBe(code);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['content-security-policy']).toBeDefined();
}

describe.each(databaseKinds())('edge findings (%s)', (db) => {
  let t: TestApp;
  let operator: string;
  let viewer: string;
  let agent: string;
  let taskId: string;

  async function counts(): Promise<Record<string, number>> {
    const ds = t.app.get(DataSource);
    const out: Record<string, number> = {};
    for (const table of TABLES) {
      const where = table === 'event_log' ? ` WHERE channel <> 'router'` : '';
      const rows: { n: number | string }[] = await ds.query(`SELECT COUNT(*) AS n FROM ${table}${where}`);
      out[table] = Number(rows[0].n);
    }
    return out;
  }
  const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_RATE_LIMIT: 1000 }, db);
    operator = await createUserKey(t, 'operator');
    viewer = await createUserKey(t, 'viewer');
    const enrolled = await request(t.url).post('/api/agents').set(bearer(operator)).send({ name: 'Edge Agent', capabilities: ['research'] }).expect(201);
    agent = enrolled.body.key;
    const task = await request(t.url).post('/api/tasks').set(bearer(operator)).send({ description: 'edge task', auctionWindowMs: 600_000 }).expect(201);
    taskId = task.body.id ?? task.body.task?.id;
    for (const k of [t.adminKey, operator, viewer, agent]) await request(t.url).get('/api/auth/me').set(bearer(k)).expect(200);
  });
  afterAll(() => t?.close());

  // ------------------------------------------------------------------ finding 3: 500 on bad input
  describe('finding 3: bad input is a 4xx, never a 500', () => {
    const cases: { name: string; method: 'get' | 'post' | 'patch'; path: string; who?: 'admin' | 'operator' | 'agent' | 'none'; body?: unknown; raw?: string; status?: number }[] = [
      { name: 'capabilities 2,000 deep', method: 'post', path: '/api/agents', who: 'operator', body: { name: 'deep', capabilities: nested(2000) } },
      { name: 'join capabilities 2,000 deep', method: 'post', path: '/api/agents/me/join', who: 'agent', body: { capabilities: nested(2000) } },
      { name: 'anonymous login body of 100,000 [', method: 'post', path: '/api/auth/login', who: 'none', raw: '['.repeat(100_000) },
      { name: 'event data nested 5,000 deep', method: 'post', path: '/api/events', who: 'agent', body: { type: 'tool.called', data: nestedObject(5000) } },
      { name: 'event data nested 100 deep', method: 'post', path: '/api/events', who: 'agent', body: { type: 'tool.called', data: nestedObject(100) } },
      { name: 'summary to=2026-100 (ordinal date)', method: 'get', path: '/api/events/summary?to=2026-100' },
      { name: 'summary to=2026-W05 (week date)', method: 'get', path: '/api/events/summary?to=2026-W05' },
      { name: 'events from=2026-W05-3', method: 'get', path: '/api/events?from=2026-W05-3' },
      { name: 'PATCH user disabled null', method: 'patch', path: '/api/users/USER', body: { disabled: null } },
      { name: 'PATCH user role null', method: 'patch', path: '/api/users/USER', body: { role: null } },
      { name: 'task description null', method: 'post', path: '/api/tasks', who: 'operator', body: { description: null } },
      { name: 'events before=1e20', method: 'get', path: '/api/events?before=1e20' },
      { name: 'events after=1e20', method: 'get', path: '/api/events?after=1e20' },
      { name: 'export before=1e20 csv', method: 'get', path: '/api/events/export?before=1e20&format=csv' },
      { name: 'export after=9007199254740993', method: 'get', path: '/api/events/export?after=9007199254740993' },
      // found by the fuzz suite: an error on a route with its own content type (SVG) was FST_ERR_REP_INVALID_PAYLOAD_TYPE
      { name: 'invoice QR with an unknown query parameter', method: 'get', path: '/api/ledger/invoices/some-ref/qr?unknownParam=1' },
      { name: 'CSV export with a bad limit', method: 'get', path: '/api/events/export?format=csv&limit=abc' },
      { name: 'ledger transactions from=2026-100 (ordinal date)', method: 'get', path: '/api/ledger/transactions?from=2026-100' },
      { name: 'ledger export to=2026-W05 (week date)', method: 'get', path: '/api/ledger/export?to=2026-W05' },
      { name: 'ledger transactions agentId null-ish empty', method: 'get', path: '/api/ledger/transactions?agentId=' },
    ];
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
      const users = await request(t.url).get('/api/users').set(bearer(t.adminKey)).expect(200);
      const path = c.path.replace('USER', users.body.find((u: { role: string }) => u.role === 'viewer').id);
      const before = await counts();
      let req = request(t.url)[c.method](path);
      if (c.who !== 'none') req = req.set(bearer({ admin: t.adminKey, operator, agent, none: '' }[c.who ?? 'admin']));
      if (c.raw !== undefined) req = req.set('content-type', 'application/json').send(c.raw);
      else if (c.body !== undefined) req = req.send(c.body as object);
      const res = await req;
      expectErrorShape(res, c.status ?? 400);
      expect(await counts()).toEqual(before);
    });

    it('event data nested 20 deep is still accepted (the limit is a depth, not a ban on nesting)', async () => {
      await request(t.url).post('/api/events').set(bearer(agent)).send({ type: 'tool.called', data: nestedObject(20) }).expect(201);
    });
  });

  // ------------------------------------------------------------------ finding 1 (edge): text PostgreSQL cannot store
  describe('finding 1: NUL and lone surrogates are refused with 400 at the edge', () => {
    const bodies: { name: string; method: 'post'; path: string; who: 'operator' | 'agent' | 'none'; raw: string }[] = [
      { name: 'event data with NUL', method: 'post', path: '/api/events', who: 'agent', raw: '{"type":"tool.called","data":{"x":"\\u0000"}}' },
      { name: 'event data key with NUL', method: 'post', path: '/api/events', who: 'agent', raw: '{"type":"tool.called","data":{"a\\u0000":"x"}}' },
      { name: 'task description with a lone high surrogate', method: 'post', path: '/api/tasks', who: 'operator', raw: '{"description":"x\\ud800"}' },
      { name: 'task description with a lone low surrogate', method: 'post', path: '/api/tasks', who: 'operator', raw: '{"description":"\\udc00x"}' },
      { name: 'cancel reason with NUL', method: 'post', path: '/api/tasks/TASK/cancel', who: 'operator', raw: '{"reason":"\\u0000"}' },
      { name: 'login username with NUL', method: 'post', path: '/api/auth/login', who: 'none', raw: '{"username":"a\\u0000b","password":"x"}' },
      { name: 'message body with NUL', method: 'post', path: '/api/messages', who: 'operator', raw: '{"toAgentId":"x","body":"hi\\u0000"}' },
    ];
    it.each(bodies.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
      const before = await counts();
      let req = request(t.url)[c.method](c.path.replace('TASK', taskId)).set('content-type', 'application/json');
      if (c.who !== 'none') req = req.set(bearer(c.who === 'agent' ? agent : operator));
      const res = await req.send(c.raw);
      expectErrorShape(res, 400, 'request/invalid_text');
      expect(await counts()).toEqual(before);
    });

    it('a valid surrogate pair (emoji) is accepted', async () => {
      await request(t.url).post('/api/events').set(bearer(agent)).set('content-type', 'application/json').send('{"type":"tool.called","data":{"x":"\\ud83d\\ude00"}}').expect(201);
    });

    it('NUL in a query string or path parameter is a 400', async () => {
      const before = await counts();
      expectErrorShape(await request(t.url).get('/api/events?source=a%00b').set(bearer(t.adminKey)), 400, 'request/invalid_text');
      expectErrorShape(await request(t.url).get('/api/tasks/a%00b').set(bearer(t.adminKey)), 400);
      expect(await counts()).toEqual(before);
    });
  });

  // ------------------------------------------------------------------ finding 4: aborted uploads
  describe('finding 4: an aborted upload is not a system error and anonymous traffic never writes', () => {
    it('20 anonymous partial bodies add no event and no ERROR log line', async () => {
      const before = await counts();
      const errSpy = jest.spyOn(process.stderr, 'write');
      const outSpy = jest.spyOn(process.stdout, 'write');
      try {
        const u = new URL(t.url);
        for (let i = 0; i < 20; i++) {
          await rawHttp(
            t.url,
            `POST /api/tasks HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"description":"par`,
            { closeAfterWrite: true },
          );
        }
        await new Promise((r) => setTimeout(r, 500));
        const printed = [...errSpy.mock.calls, ...outSpy.mock.calls].map((c) => String(c[0])).join('');
        expect(printed).not.toMatch(/ERROR/);
      } finally {
        errSpy.mockRestore();
        outSpy.mockRestore();
      }
      expect(await counts()).toEqual(before);
    });
  });

  // ------------------------------------------------------------------ finding 5: error shape
  describe('finding 5: every error is { statusCode, code, message } with the security headers', () => {
    it('GET /api/tasks/%FF (bad URL encoding)', async () => {
      expectErrorShape(await request(t.url).get('/api/tasks/%FF').set(bearer(t.adminKey)), 400);
      expectErrorShape(await request(t.url).get('/api/tasks/%FF'), 400);
    });
    it('a 5,000-character id', async () => {
      const res = await request(t.url).get(`/api/tasks/${'a'.repeat(5000)}`).set(bearer(t.adminKey));
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectErrorShape(res, res.status);
    });
    it("Node's parser errors: headers too large (431) and a malformed request (400) get a JSON body with a code", async () => {
      const big = await rawHttp(t.url, `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(big).toMatch(/^HTTP\/1\.1 431 /);
      expect(big).toMatch(/content-type: application\/json/i);
      expect(big).toMatch(/x-content-type-options: nosniff/i);
      expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toEqual({ statusCode: 431, code: 'request/headers_too_large', message: expect.any(String) });
      const bad = await rawHttp(t.url, 'GARBAGE\r\n\r\n');
      expect(bad).toMatch(/^HTTP\/1\.1 400 /);
      expect(bad).toMatch(/x-content-type-options: nosniff/i);
      expect(JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4))).toEqual({ statusCode: 400, code: 'request/malformed_http', message: expect.any(String) });
    });
    it('unsupported content type and unknown route keep the shape', async () => {
      const plain = await request(t.url).post('/api/tasks').set(bearer(operator)).set('content-type', 'text/plain').send('hello');
      expect([400, 415]).toContain(plain.status);
      expectErrorShape(plain, plain.status);
      expectErrorShape(await request(t.url).post('/api/tasks').set(bearer(operator)).set('content-type', 'application/xml').send('<a/>'), 415);
      expectErrorShape(await request(t.url).get('/api/nowhere').set(bearer(t.adminKey)), 404);
    });
  });

  // ------------------------------------------------------------------ finding 6: authorization
  describe('finding 6: authorization', () => {
    it('a viewer cannot create an API key (viewers are read-only)', async () => {
      const before = await counts();
      expectErrorShape(await request(t.url).post('/api/api-keys').set(bearer(viewer)).send({ label: 'x', role: 'viewer' }), 403);
      const own = await request(t.url).get('/api/api-keys').set(bearer(viewer)).expect(200);
      expect(own.body.length).toBeGreaterThan(0);
      expectErrorShape(await request(t.url).delete(`/api/api-keys/${own.body[0].id}`).set(bearer(viewer)), 403);
      expect(await counts()).toEqual(before);
      // an admin makes a viewer's key, bound to the viewer (never above the viewer's role)
      const users = await request(t.url).get('/api/users').set(bearer(t.adminKey)).expect(200);
      const viewerUser = users.body.find((u: { role: string }) => u.role === 'viewer');
      expectErrorShape(await request(t.url).post('/api/api-keys').set(bearer(t.adminKey)).send({ label: 'x', role: 'operator', userId: viewerUser.id }), 403);
      expectErrorShape(await request(t.url).post('/api/api-keys').set(bearer(operator)).send({ label: 'x', role: 'viewer', userId: viewerUser.id }), 403);
    });

    it('X-Forwarded-For is not trusted without TRUST_PROXY (the login limit cannot be bypassed)', async () => {
      const t2 = await startTestApp({ LOGIN_RATE_LIMIT: 3 }, 'sqlite');
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) {
          const r = await request(t2.url).post('/api/auth/login').set('x-forwarded-for', `10.0.0.${i}`).send({ username: 'admin', password: 'wrong-password' });
          statuses.push(r.status);
        }
        // the test app's own login (createKeyWithPassword) used one of the 3 attempts
        expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(4);
      } finally {
        await t2.close();
      }
    });

    it('TRUST_PROXY=loopback trusts X-Forwarded-For from loopback', async () => {
      const t2 = await startTestApp({ LOGIN_RATE_LIMIT: 3, TRUST_PROXY: 'loopback' }, 'sqlite');
      try {
        for (let i = 0; i < 6; i++) {
          const r = await request(t2.url).post('/api/auth/login').set('x-forwarded-for', `10.0.1.${i}`).send({ username: 'admin', password: 'wrong-password' });
          expect(r.status).toBe(401);
        }
      } finally {
        await t2.close();
      }
    });

    it('re-enabling a disabled user does not revive their API keys', async () => {
      const username = `revive${Date.now()}`;
      const created = await request(t.url).post('/api/users').set(bearer(t.adminKey)).send({ username, password: 'a-long-test-password', role: 'operator' }).expect(201);
      const agentLogin = request.agent(t.url);
      const login = await agentLogin.post('/api/auth/login').send({ username, password: 'a-long-test-password' }).expect(200);
      const key = (await agentLogin.post('/api/api-keys').set('x-csrf-token', login.body.csrfToken).send({ label: 'k', role: 'operator' }).expect(201)).body.key;
      await request(t.url).get('/api/auth/me').set(bearer(key)).expect(200);
      await request(t.url).patch(`/api/users/${created.body.id}`).set(bearer(t.adminKey)).send({ disabled: true }).expect(200);
      await request(t.url).get('/api/auth/me').set(bearer(key)).expect(401);
      await request(t.url).patch(`/api/users/${created.body.id}`).set(bearer(t.adminKey)).send({ disabled: false }).expect(200);
      await request(t.url).get('/api/auth/me').set(bearer(key)).expect(401);
      const keys = await request(t.url).get('/api/api-keys').set(bearer(t.adminKey)).expect(200);
      expect(keys.body.find((k: { userId: string }) => k.userId === created.body.id).revokedAt).toEqual(expect.any(String));
    });

    it('after a demotion the key list shows the current (effective) role', async () => {
      const username = `demote${Date.now()}`;
      const created = await request(t.url).post('/api/users').set(bearer(t.adminKey)).send({ username, password: 'a-long-test-password', role: 'operator' }).expect(201);
      const a = request.agent(t.url);
      const login = await a.post('/api/auth/login').send({ username, password: 'a-long-test-password' }).expect(200);
      const made = await a.post('/api/api-keys').set('x-csrf-token', login.body.csrfToken).send({ label: 'k', role: 'operator' }).expect(201);
      await request(t.url).patch(`/api/users/${created.body.id}`).set(bearer(t.adminKey)).send({ role: 'viewer' }).expect(200);
      const keys = await request(t.url).get('/api/api-keys').set(bearer(t.adminKey)).expect(200);
      expect(keys.body.find((k: { id: string }) => k.id === made.body.apiKey.id).role).toBe('viewer');
      const me = await request(t.url).get('/api/auth/me').set(bearer(made.body.key)).expect(200);
      expect(me.body.principal.role).toBe('viewer');
    });

    it('an API key is not accepted as the session cookie, nor a session token as a bearer token', async () => {
      expectErrorShape(await request(t.url).get('/api/auth/me').set('cookie', `mc_session=${t.adminKey}`), 401);
      const login = await request(t.url).post('/api/auth/login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(200);
      const cookie = String(login.headers['set-cookie']).match(/mc_session=([^;]+)/)![1];
      await request(t.url).get('/api/auth/me').set('cookie', `mc_session=${cookie}`).expect(200);
      expectErrorShape(await request(t.url).get('/api/auth/me').set(bearer(cookie)), 401);
    });

    it('responses that show a new key carry Cache-Control: no-store', async () => {
      const made = await request(t.url).post('/api/api-keys').set(bearer(t.adminKey)).send({ label: 'nostore', role: 'viewer' }).expect(201);
      expect(made.headers['cache-control']).toBe('no-store');
      const enrolled = await request(t.url).post('/api/agents').set(bearer(operator)).send({ name: `NoStore ${Date.now()}` }).expect(201);
      expect(enrolled.headers['cache-control']).toBe('no-store');
      const more = await request(t.url).post(`/api/agents/${enrolled.body.agent?.id ?? enrolled.body.id}/keys`).set(bearer(operator)).send({});
      if (more.status === 201) expect(more.headers['cache-control']).toBe('no-store');
      const login = await request(t.url).post('/api/auth/login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(200);
      expect(login.headers['cache-control']).toBe('no-store');
    });
  });

  // ------------------------------------------------------------------ finding 7: null bodies
  describe('finding 7: a JSON null body is rejected, not read as {}', () => {
    it.each([
      ['cancel', (): string => `/api/tasks/${taskId}/cancel`, 'operator'],
      ['join', (): string => '/api/agents/me/join', 'agent'],
      ['login', (): string => '/api/auth/login', 'none'],
    ] as const)('%s', async (_n, path, who) => {
      for (const raw of ['null', '5', '"x"', 'true']) {
        const before = await counts();
        let req = request(t.url).post(path()).set('content-type', 'application/json');
        if (who !== 'none') req = req.set(bearer(who === 'agent' ? agent : operator));
        expectErrorShape(await req.send(raw), 400, 'request/invalid_body');
        expect(await counts()).toEqual(before);
      }
    });
  });
});
