import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app';

interface Operation {
  responses?: Record<string, { content?: unknown }>;
  security?: unknown[];
  summary?: string;
}

/** Swagger: every endpoint documented with a summary, a success schema, error responses and its auth. */
describe('OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('is served without auth next to Swagger UI', async () => {
    await request(t.url).get('/api/docs').expect(200).expect('content-type', /html/);
    const doc = await request(t.url).get('/api/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.components.securitySchemes).toHaveProperty('bearer');
  });

  it('documents every operation with a summary, success schema, errors and security', async () => {
    const doc = (await request(t.url).get('/api/docs-json').expect(200)).body as { paths: Record<string, Record<string, Operation>> };
    const problems: string[] = [];
    let count = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        count++;
        const where = `${method.toUpperCase()} ${path}`;
        const codes = Object.keys(op.responses ?? {});
        const ok = codes.filter((c) => c.startsWith('2'));
        if (!op.summary) problems.push(`${where}: no summary`);
        if (ok.length === 0) problems.push(`${where}: no success response`);
        if (!ok.some((c) => c === '204' || op.responses![c].content)) problems.push(`${where}: success response has no schema`);
        if (!codes.some((c) => /^[45]/.test(c))) problems.push(`${where}: no error responses`);
        const isPublic = path === '/api/health' || path === '/api/auth/login';
        if (!isPublic && !(op.security && op.security.length > 0)) problems.push(`${where}: no security requirement`);
        if (!isPublic && !codes.includes('401')) problems.push(`${where}: 401 not documented`);
      }
    }
    expect(count).toBeGreaterThan(30);
    expect(problems).toEqual([]);
  });
});
