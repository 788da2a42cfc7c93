import request from 'supertest';
import { databaseKinds, startTestApp, type TestApp, ADMIN_PASSWORD, createUserKey } from '../support/test-app';

describe.each(databaseKinds())('auth (%s)', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, db);
  });
  afterAll(() => t.close());

  it('health is public, everything else needs auth', async () => {
    await request(t.url).get('/api/health').expect(200);
    const res = await request(t.url).get('/api/events').expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, code: 'auth/unauthenticated' });
    await request(t.url).get('/api/events').set('authorization', 'Bearer mck_nope').expect(401);
  });

  it('cookie session needs a CSRF token for writes', async () => {
    const agent = request.agent(t.url);
    const login = await agent.post('/api/auth/login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(200);
    expect((login.headers['set-cookie'] as unknown as string[]).join(';')).toMatch(/mc_session=.*HttpOnly/i);
    await agent.get('/api/auth/me').expect(200);
    const denied = await agent.post('/api/api-keys').send({ label: 'x', role: 'viewer' }).expect(403);
    expect(denied.body.code).toBe('auth/csrf_invalid');
    await agent.post('/api/api-keys').set('x-csrf-token', login.body.csrfToken).send({ label: 'x', role: 'viewer' }).expect(201);
  });

  it('bad login is 401 and logged as auth.login_failed without the password', async () => {
    await request(t.url).post('/api/auth/login').send({ username: 'admin', password: 'wrong-password-123' }).expect(401);
    const ev = await request(t.url).get('/api/events?type=auth.login_failed').set('authorization', `Bearer ${t.adminKey}`).expect(200);
    expect(ev.body.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(ev.body.items)).not.toContain('wrong-password-123');
  });

  it('revoked keys stop working; viewers cannot manage users or escalate', async () => {
    const viewerKey = await createUserKey(t, 'viewer');
    await request(t.url).get('/api/users').set('authorization', `Bearer ${viewerKey}`).expect(403);
    const own = await request(t.url).get('/api/api-keys').set('authorization', `Bearer ${viewerKey}`).expect(200);
    expect(own.body.every((k: { role: string }) => k.role === 'viewer')).toBe(true);
    await request(t.url).post('/api/api-keys').set('authorization', `Bearer ${viewerKey}`).send({ label: 'up', role: 'admin' }).expect(403);
    const created = await request(t.url).post('/api/api-keys').set('authorization', `Bearer ${t.adminKey}`).send({ label: 'tmp', role: 'operator' }).expect(201);
    expect(created.body.key).toMatch(/^mck_/);
    const list = await request(t.url).get('/api/api-keys').set('authorization', `Bearer ${t.adminKey}`).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    await request(t.url).get('/api/auth/me').set('authorization', `Bearer ${created.body.key}`).expect(200);
    await request(t.url).delete(`/api/api-keys/${created.body.apiKey.id}`).set('authorization', `Bearer ${t.adminKey}`).expect(200);
    await request(t.url).get('/api/auth/me').set('authorization', `Bearer ${created.body.key}`).expect(401);
  });

  it('a role change or a disabled user takes effect on the very next request (no stale credential cache)', async () => {
    const username = `demote${Date.now()}`;
    const key = await createUserKey(t, 'operator', username);
    const users = await request(t.url).get('/api/users').set('authorization', `Bearer ${t.adminKey}`).expect(200);
    const id = users.body.find((u: { username: string }) => u.username === username).id;
    const me = () => request(t.url).get('/api/auth/me').set('authorization', `Bearer ${key}`);
    expect((await me().expect(200)).body.principal.role).toBe('operator');
    await request(t.url).patch(`/api/users/${id}`).set('authorization', `Bearer ${t.adminKey}`).send({ role: 'viewer' }).expect(200);
    expect((await me().expect(200)).body.principal.role).toBe('viewer');
    await request(t.url).patch(`/api/users/${id}`).set('authorization', `Bearer ${t.adminKey}`).send({ disabled: true }).expect(200);
    await me().expect(401);
  });
});
