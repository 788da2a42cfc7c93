import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createPgDatabase, createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';

const SECRET = 'sk-test-secret-key-0123456789';
const MSG = [{ role: 'user', content: 'hello router' }];

describe.each(databaseKinds())('llm-router API (%s)', (db) => {
  let ollama: FakeLlmServer;
  let openai: FakeLlmServer;
  let anthropic: FakeLlmServer;
  let t: TestApp;
  let dbOverride: Record<string, string>;
  let dropPg: (() => Promise<void>) | null = null;
  let yamlPath: string;
  const auth = () => ({ authorization: `Bearer ${t.adminKey}` });

  beforeAll(async () => {
    ollama = await startFake('ollama', 'primary');
    openai = await startFake('openai', 'secondary');
    anthropic = await startFake('anthropic', 'cloud');
    if (db === 'postgres') {
      const pg = await createPgDatabase();
      dropPg = pg.drop;
      dbOverride = { DATABASE_URL: pg.url };
    } else {
      dbOverride = { SQLITE_PATH: join(mkdtempSync(join(tmpdir(), 'mc-router-db-')), 'router.db') };
    }
    yamlPath = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [
        { name: 'primary', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }, 'tiny'] },
        { name: 'secondary', type: 'openai', tier: 'local', priority: 2, base_url: openai.url, api_key: SECRET, models: [{ name: 'gpt-4o-mini', default: true }] },
        { name: 'cloud', type: 'anthropic', priority: 3, base_url: anthropic.url, api_key: SECRET, models: [{ name: 'claude-3-5-haiku-latest', default: true, cost_per_1k_input_usd: 1, cost_per_1k_output_usd: 1 }] },
        { name: 'needs-env', type: 'openai', priority: 4, base_url: openai.url, api_key: '${MC_TEST_UNSET_KEY_XYZ}', models: ['gpt-4o'] },
      ],
    });
    t = await startTestApp({ LLM_PROVIDERS_PATH: yamlPath, ...dbOverride }, db);
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([ollama.stop(), openai.stop(), anthropic.stop()]);
    await dropPg?.();
  });

  beforeEach(async () => {
    ollama.reset();
    openai.reset();
    anthropic.reset();
    for (const p of ['primary', 'secondary']) {
      await request(t.url).post(`/api/router/providers/${p}/control`).set(auth()).send({ action: 'reset_circuit' }).expect(200);
    }
  });

  it('routes to the primary with the documented response shape; max_tokens and temperature reach the wire', async () => {
    const res = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG, max_tokens: 2 }).expect(200);
    expect(res.body).toMatchObject({ content: 'Hello from ', provider: 'primary', model: 'llama3.2', usage: { completionTokens: 2 } });
    expect(res.body.latencyMs).toBeGreaterThan(0);
    expect(res.body.attempts).toEqual([expect.objectContaining({ provider: 'primary', outcome: 'success' })]);
    expect(res.headers['x-router-provider']).toBe('primary');
    const sent = ollama.chatRequests()[0].body as { options: { num_predict: number; temperature: number }; stream: boolean };
    expect(sent.options).toEqual({ num_predict: 2, temperature: 0.7 });
    expect(sent.stream).toBe(false);
  });

  it('retries a 503 with backoff, then fails over to the next provider and records a router.failover event', async () => {
    ollama.setFault({ kind: 'status', status: 503 });
    const res = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(res.body.provider).toBe('secondary');
    expect(res.body.content).toBe('Hello from secondary');
    const primary = res.body.attempts.filter((a: { provider: string }) => a.provider === 'primary');
    expect(primary).toHaveLength(2); // 1 + max_retries
    expect(primary[0]).toMatchObject({ outcome: 'error', reason: 'http_503' });
    expect(ollama.chatCount).toBe(2);
    // the OpenAI-compatible upstream got the key as a bearer token
    expect(openai.chatRequests()[0].headers.authorization).toBe(`Bearer ${SECRET}`);
    const ev = await waitFor(async () => {
      const r = await request(t.url).get('/api/events?type=router.failover').set(auth()).expect(200);
      return r.body.items.find((e: { data: { from: string; to: string } }) => e.data.from === 'primary' && e.data.to === 'secondary');
    });
    expect(ev.channel).toBe('router');
    expect(ev.data.reason).toBe('http_503');
  });

  it('honours Retry-After on 429 and never retries other 4xx', async () => {
    ollama.fail({ kind: 'status', status: 429, retryAfterS: 1 });
    const t0 = Date.now();
    const ok = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(ok.body.provider).toBe('primary');
    expect(ok.body.attempts.map((a: { reason?: string; outcome: string }) => a.reason ?? a.outcome)).toEqual(['rate_limited', 'success']);

    ollama.fail({ kind: 'status', status: 400, message: 'bad model' });
    const moved = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(moved.body.provider).toBe('secondary');
    expect(moved.body.attempts[0]).toMatchObject({ provider: 'primary', outcome: 'error', reason: 'http_400' });
    expect(moved.body.attempts.filter((a: { provider: string }) => a.provider === 'primary')).toHaveLength(1);
  });

  it('classifies hang (timeout), malformed JSON, 200-with-error-body and reset as retryable failures', async () => {
    ollama.fail({ kind: 'hang' }).fail({ kind: 'malformedJson' });
    const a = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(a.body.attempts.slice(0, 2).map((x: { reason: string }) => x.reason)).toEqual(['timeout', 'bad_response']);
    expect(a.body.attempts[0].latencyMs).toBeGreaterThanOrEqual(1400);
    // two failures so far (threshold 3): a success in between resets the consecutive count
    await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    ollama.fail({ kind: 'errorBody' }).fail({ kind: 'reset' });
    const b = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(b.body.attempts.slice(0, 2).map((x: { reason: string }) => x.reason)).toEqual(['error_body', 'connection_reset']);
    expect(b.body.provider).toBe('secondary');
    ollama.fail({ kind: 'slowFirstByte', delayMs: 300 });
    const c = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(c.body.provider).toBe('primary');
    expect(c.body.latencyMs).toBeGreaterThanOrEqual(290);
  });

  it('never sends a prompt to a cloud provider unless allowed; all-failed is a 503 with attempts and a configuration hint', async () => {
    ollama.setFault({ kind: 'status', status: 500 });
    openai.setFault({ kind: 'status', status: 502 });
    const res = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(503);
    expect(res.body.code).toBe('router/all_providers_failed');
    expect(res.body.message).toContain('All providers failed');
    expect(res.body.message).toContain('allow_cloud_fallback');
    expect(res.body.message).toContain('MC_TEST_UNSET_KEY_XYZ');
    const attempts = res.body.details.attempts as { provider: string; outcome: string; reason: string }[];
    expect(attempts.find((a) => a.provider === 'cloud')).toMatchObject({ outcome: 'skipped', reason: 'cloud_not_allowed' });
    expect(attempts.find((a) => a.provider === 'needs-env')).toMatchObject({ outcome: 'skipped', reason: 'misconfigured' });
    expect(anthropic.chatCount).toBe(0);
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
  });

  it('a provider with an unset ${VAR} is listed but disabled with the reason, and cannot be enabled', async () => {
    const list = await request(t.url).get('/api/router/providers').set(auth()).expect(200);
    const p = list.body.find((x: { name: string }) => x.name === 'needs-env');
    expect(p).toMatchObject({ enabled: false, status: 'disabled', disabledReason: 'environment variable MC_TEST_UNSET_KEY_XYZ is not set' });
    const r = await request(t.url).post('/api/router/providers/needs-env/control').set(auth()).send({ action: 'enable' }).expect(409);
    expect(r.body.code).toBe('router/provider_misconfigured');
  });

  it('operator controls: disable skips, enable restores, probe reports, unknown provider 404, unknown action 400, viewer 403', async () => {
    const d = await request(t.url).post('/api/router/providers/primary/control').set(auth()).send({ action: 'disable' }).expect(200);
    expect(d.body.provider).toMatchObject({ name: 'primary', enabled: false, status: 'disabled' });
    const r1 = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(r1.body.provider).toBe('secondary');
    expect(r1.body.attempts[0]).toMatchObject({ provider: 'primary', outcome: 'skipped', reason: 'disabled' });
    expect(ollama.chatCount).toBe(0);
    await request(t.url).post('/api/router/providers/primary/control').set(auth()).send({ action: 'enable' }).expect(200);
    const r2 = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(r2.body.provider).toBe('primary');
    const pr = await request(t.url).post('/api/router/providers/primary/control').set(auth()).send({ action: 'probe' }).expect(200);
    expect(pr.body.message).toMatch(/reachable/);
    expect(pr.body.provider.reachable).toBe(true);
    const nf = await request(t.url).post('/api/router/providers/nope/control').set(auth()).send({ action: 'enable' }).expect(404);
    expect(nf.body.code).toBe('router/provider_not_found');
    const bad = await request(t.url).post('/api/router/providers/primary/control').set(auth()).send({ action: 'explode' }).expect(400);
    expect(bad.body.message).toContain('Unknown action');
    const viewer = await createUserKey(t, 'viewer');
    await request(t.url).post('/api/router/providers/primary/control').set('authorization', `Bearer ${viewer}`).send({ action: 'disable' }).expect(403);
    await request(t.url).post('/api/router/complete').set('authorization', `Bearer ${viewer}`).send({ messages: MSG }).expect(403);
    await request(t.url).get('/api/router/status').set('authorization', `Bearer ${viewer}`).expect(200);
    const events = await request(t.url).get('/api/events?type=router.provider_state_changed').set(auth()).expect(200);
    expect(events.body.items.some((e: { data: { provider: string; field: string; to: unknown } }) => e.data.provider === 'primary' && e.data.field === 'enabled' && e.data.to === false)).toBe(true);
  });

  it('status, metrics, providers and config report state without secrets', async () => {
    await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    const status = await request(t.url).get('/api/router/status').set(auth()).expect(200);
    expect(status.body).toMatchObject({ totalProviders: 4, preferredProvider: 'primary', allowCloudFallback: false });
    expect(status.body.headSeq).toBeGreaterThan(0);
    const metrics = await request(t.url).get('/api/router/metrics').set(auth()).expect(200);
    const pm = metrics.body.providers.find((p: { name: string }) => p.name === 'primary');
    expect(pm.metrics.requests).toBeGreaterThan(0);
    expect(pm.metrics.p50).toBeGreaterThan(0);
    expect(pm.series.length).toBeGreaterThan(0);
    const config = await request(t.url).get('/api/router/config').set(auth()).expect(200);
    expect(config.body).toMatchObject({ timeoutMs: 1500, maxRetries: 1, circuitBreaker: { failureThreshold: 3, recoveryTimeoutMs: 400, halfOpenMaxCalls: 2 } });
    for (const path of ['/api/router/status', '/api/router/metrics', '/api/router/providers', '/api/router/config']) {
      const r = await request(t.url).get(path).set(auth()).expect(200);
      expect(JSON.stringify(r.body)).not.toContain(SECRET);
      expect(JSON.stringify(r.body)).not.toMatch(/api_?key/i);
    }
  });

  it('/metrics is Prometheus text and requires auth', async () => {
    await request(t.url).get('/metrics').expect(401);
    await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    const res = await request(t.url).get('/metrics').set(auth()).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/llm_router_attempts_total\{provider="primary",outcome="success"\} \d+/);
    expect(res.text).toContain('llm_router_circuit_state{provider="primary"} 0');
    expect(res.text).not.toContain(SECRET);
  });

  it('every router endpoint is in Swagger with bearer auth', async () => {
    const doc = (await request(t.url).get('/api/docs-json').expect(200)).body as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    for (const [path, method] of [
      ['/api/router/complete', 'post'],
      ['/api/router/status', 'get'],
      ['/api/router/metrics', 'get'],
      ['/api/router/providers', 'get'],
      ['/api/router/config', 'get'],
      ['/api/router/providers/{name}/control', 'post'],
      ['/v1/chat/completions', 'post'],
      ['/v1/models', 'get'],
      ['/metrics', 'get'],
    ]) {
      expect(doc.paths[path]?.[method]).toBeDefined();
      expect(JSON.stringify(doc.paths[path][method].security)).toContain('bearer');
    }
  });

  it('bad input gets a 4xx with a code and changes nothing', async () => {
    const before = ollama.chatCount + openai.chatCount;
    const bad: unknown[] = [
      {},
      { messages: [] },
      { messages: 'hi' },
      { messages: [{ role: 'wizard', content: 'x' }] },
      { messages: [{ role: 'user' }] },
      { messages: MSG, temperature: 5 },
      { messages: MSG, max_tokens: 0 },
      { messages: MSG, max_tokens: 1.5 },
      { messages: MSG, model: '' },
      { messages: MSG, extra: true },
    ];
    for (const body of bad) {
      const r = await request(t.url).post('/api/router/complete').set(auth()).send(body as object);
      expect([400, 422]).toContain(r.status);
      expect(r.body).toMatchObject({ statusCode: r.status, code: expect.stringMatching(/^[a-z_-]+\/[a-z_]+$/) });
    }
    const malformed = await request(t.url).post('/api/router/complete').set(auth()).set('content-type', 'application/json').send('{"messages": [');
    expect(malformed.status).toBe(400);
    const unknownModel = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG, model: 'no-such-model' }).expect(404);
    expect(unknownModel.body.code).toBe('router/model_not_found');
    await request(t.url).post('/api/router/providers/primary/control').set(auth()).send({}).expect(400);
    await request(t.url).post('/api/router/complete').send({ messages: MSG }).expect(401);
    const v1bad: unknown[] = [{ messages: MSG }, { model: 'auto' }, { model: 'auto', messages: [{ role: 'user', content: 42 }] }, { model: 'auto', messages: MSG, stream: 'yes' }, { model: 'auto', messages: MSG, temperature: -1 }, [1, 2]];
    for (const body of v1bad) {
      const r = await request(t.url).post('/v1/chat/completions').set(auth()).send(body as object);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('request/bad_request');
    }
    const why = await request(t.url).post('/v1/chat/completions').set(auth()).send({ model: 'auto', messages: [] }).expect(400);
    expect(why.body.message).toContain('body/messages must NOT have fewer than 1 items');
    // the auth guard answers before validation: no schema details for anonymous callers
    await request(t.url).post('/v1/chat/completions').send({ model: 'auto', messages: [] }).expect(401);
    await request(t.url).post('/v1/chat/completions').set(auth()).send({ model: 'nope', messages: MSG }).expect(404);
    await request(t.url).get('/v1/models').expect(401);
    expect(ollama.chatCount + openai.chatCount).toBe(before);
  });

  it('model selection: a named model goes to the providers that serve it; provider/model pins a provider', async () => {
    const a = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG, model: 'gpt-4o-mini' }).expect(200);
    expect(a.body.provider).toBe('secondary');
    const b = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG, model: 'primary/tiny' }).expect(200);
    expect(b.body).toMatchObject({ provider: 'primary', model: 'tiny' });
    // OpenAI content parts and the developer role are accepted (parts joined, developer sent as system)
    const parts = await request(t.url)
      .post('/v1/chat/completions')
      .set(auth())
      .send({ model: 'auto', messages: [{ role: 'developer', content: [{ type: 'text', text: 'Be ' }, { type: 'text', text: 'brief.' }] }, { role: 'user', content: 'hi' }], user: 'sdk-extra-field' })
      .expect(200);
    expect(parts.body.object).toBe('chat.completion');
    const sent = [...ollama.chatRequests(), ...openai.chatRequests()].sort((x, y) => y.at - x.at)[0];
    expect(sent.body?.messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }]);
    const models = await request(t.url).get('/v1/models').set(auth()).expect(200);
    expect(models.body.data.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(['auto', 'llama3.2', 'gpt-4o-mini', 'primary/llama3.2']));
  });

  it('opens the circuit after failure_threshold failures, skips it without waiting, and persists metrics and state across a restart', async () => {
    ollama.setFault({ kind: 'status', status: 500 });
    // 2 requests x 2 attempts: the circuit opens at the 3rd consecutive failure, so the 2nd request stops after 1 attempt
    await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(ollama.chatCount).toBe(3);
    const t0 = Date.now();
    const skipped = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG }).expect(200);
    expect(Date.now() - t0).toBeLessThan(300);
    expect(skipped.body.attempts[0]).toMatchObject({ provider: 'primary', outcome: 'skipped', reason: 'circuit_open' });
    expect(ollama.chatCount).toBe(3);
    const opened = await waitFor(async () => {
      const r = await request(t.url).get('/api/events?type=router.provider_state_changed').set(auth()).expect(200);
      return r.body.items.find((e: { data: { provider: string; field: string; to: string } }) => e.data.provider === 'primary' && e.data.field === 'circuit' && e.data.to === 'open');
    });
    expect(opened.data.reason).toMatch(/3 consecutive failures/);
    const before = (await request(t.url).get('/api/router/metrics').set(auth()).expect(200)).body.providers.find((p: { name: string }) => p.name === 'primary');

    // restart on the same database: totals, circuit state and history come back
    await t.close();
    t = await startTestApp({ LLM_PROVIDERS_PATH: yamlPath, ...dbOverride }, db);
    const after = (await request(t.url).get('/api/router/metrics').set(auth()).expect(200)).body.providers.find((p: { name: string }) => p.name === 'primary');
    expect(after.metrics.requests).toBe(before.metrics.requests);
    expect(after.metrics.failures).toBe(before.metrics.failures);
    expect(after.metrics.lastError).toContain('http_500');
    expect(after.circuitState).toBe('open');
    expect(after.series.length).toBeGreaterThan(0);
    const flushed = await request(t.url).get('/api/events?type=router.metrics_flushed').set(auth()).expect(200);
    expect(flushed.body.items.length).toBeGreaterThan(0);
  });
});
