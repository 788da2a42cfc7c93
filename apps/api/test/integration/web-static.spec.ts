import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import helmet from 'helmet';
import { securityHeaderSet } from '../../src/app.factory';
import { startTestApp, type TestApp } from '../support/test-app';

/** The dashboard's static files and client-side routes, served on the API's port (ADR 0006). */
describe('dashboard files and page routes', () => {
  let t: TestApp;
  const web = mkdtempSync(join(tmpdir(), 'mc-web-'));
  beforeAll(async () => {
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>Mission Control</title><div id="root"></div>');
    writeFileSync(join(web, 'assets', 'app-1234.js'), 'console.log("app")');
    t = await startTestApp({ WEB_DIST: web });
  });
  afterAll(async () => {
    await t.close();
    rmSync(web, { recursive: true, force: true });
  });

  it('serves built files with their type and security headers', async () => {
    const res = await request(t.url).get('/assets/app-1234.js').expect(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.text).toBe('console.log("app")');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers page routes (/, /m, /events?x) with index.html, without auth', async () => {
    for (const path of ['/', '/m', '/events?type=task.created', '/settings/keys']) {
      const res = await request(t.url).get(path).expect(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).toContain('<title>Mission Control</title>');
    }
  });

  it('never answers API paths or missing files with the page', async () => {
    for (const path of ['/api/nope', '/v1/nope', '/assets/missing-5678.js', '/favicon.ico']) {
      const res = await request(t.url).get(path).expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, code: 'request/not_found' });
    }
    // unknown API routes with other methods get the same error shape
    const post = await request(t.url).post('/api/nope').send({}).expect(404);
    expect(post.body.code).toBe('request/not_found');
  });

  it('every response (page, API, 401, 404) carries the security headers helmet computed at boot, and no x-powered-by', async () => {
    const responses = [
      await request(t.url).get('/').expect(200),
      await request(t.url).get('/api/health').expect(200),
      await request(t.url).get('/api/events').expect(401),
      await request(t.url).get('/api/nope').expect(404),
      await request(t.url).get('/api/events').set('authorization', `Bearer ${t.adminKey}`).expect(200),
    ];
    for (const res of responses) {
      expect(res.headers['content-security-policy']).toContain("connect-src 'self' ws: wss:");
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });
});

describe('securityHeaderSet', () => {
  it('records what a helmet middleware sets (lower-case names) and honours removals', () => {
    const h = securityHeaderSet(helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'none'"] } }, xFrameOptions: { action: 'deny' } }));
    expect(h['content-security-policy']).toMatch(/^default-src 'none'/);
    expect(h['x-frame-options']).toBe('DENY');
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(Object.keys(h).every((k) => k === k.toLowerCase())).toBe(true);
    expect(h['x-powered-by']).toBeUndefined();
  });

  it('throws when the middleware reports an error', () => {
    const failing = ((_req: unknown, _res: unknown, next: (err?: unknown) => void) => next(new Error('bad directive'))) as unknown as ReturnType<typeof helmet>;
    expect(() => securityHeaderSet(failing)).toThrow('bad directive');
  });
});
