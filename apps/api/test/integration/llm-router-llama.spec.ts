import { hash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import request from 'supertest';
import { repoRoot } from '../../src/llm-router/providers-config';
import { startTestApp, type TestApp } from '../support/test-app';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';

/**
 * The real 260K-parameter GGUF model (writes children's stories), shipped in the repository as a test fixture
 * (test/fixtures/models/README.md: source, MIT licence, sha256); STORIES_GGUF overrides it. We assert on mechanics,
 * never on content.
 */
const FIXTURE = join(repoRoot(), 'apps', 'api', 'test', 'fixtures', 'models', 'stories260K.gguf');
const MODEL = process.env.STORIES_GGUF ?? FIXTURE;

describe('llm-router in-process llama-cpp provider (real GGUF model)', () => {
  let t: TestApp;
  let fallback: FakeLlmServer;
  let client: OpenAI;

  beforeAll(async () => {
    if (!existsSync(MODEL)) throw new Error(`test model missing: ${MODEL} (the fixture ships in the repository; STORIES_GGUF overrides it)`);
    fallback = await startFake('ollama', 'fallback');
    const yaml = writeProvidersYaml({
      cascade: fastCascade({ timeout_ms: 30_000, max_retries: 0, circuit_breaker: { failure_threshold: 10, recovery_timeout_ms: 1000, half_open_max_calls: 1 } }),
      providers: [
        { name: 'llama', type: 'llama-cpp', priority: 1, model_path: MODEL, context_size: 512, threads: 1, models: [{ name: 'stories260k', default: true }] },
        { name: 'llama-tight', type: 'llama-cpp', priority: 2, model_path: MODEL, context_size: 512, threads: 1, timeout_ms: 1500, models: [{ name: 'stories-tight', default: true }] },
        { name: 'llama-missing', type: 'llama-cpp', priority: 3, model_path: '/nonexistent/model.gguf', models: [{ name: 'ghost', default: true }] },
        { name: 'fallback', type: 'ollama', priority: 4, url: fallback.url, models: [{ name: 'llama3.2', default: true }, 'stories-tight', 'ghost'] },
      ],
    });
    t = await startTestApp({ LLM_PROVIDERS_PATH: yaml }, 'sqlite');
    client = new OpenAI({ apiKey: t.adminKey, baseURL: `${t.url}/v1`, maxRetries: 0, timeout: 60_000 });
  });

  afterAll(async () => {
    await t?.close(); // disposes the model and stops the worker threads (the process must not abort)
    await fallback?.stop();
  });

  it('uses the model shipped in the repository by default (a clone without ../shared passes)', () => {
    expect(existsSync(FIXTURE)).toBe(true);
    expect(hash('sha256', readFileSync(FIXTURE), 'hex')).toBe('270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d');
    if (!process.env.STORIES_GGUF) expect(MODEL).toBe(FIXTURE);
  });

  it('generates in-process with max_tokens honoured and usage counted', async () => {
    const res = await request(t.url)
      .post('/api/router/complete')
      .set('authorization', `Bearer ${t.adminKey}`)
      .send({ messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 12, temperature: 0 })
      .expect(200);
    expect(res.body.provider).toBe('llama');
    expect(res.body.model).toBe('stories260k');
    expect(res.body.content.length).toBeGreaterThan(0);
    expect(res.body.usage.completionTokens).toBe(12);
    expect(res.body.usage.promptTokens).toBeGreaterThan(3);
    // deterministic at temperature 0
    const again = await request(t.url)
      .post('/api/router/complete')
      .set('authorization', `Bearer ${t.adminKey}`)
      .send({ messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 12, temperature: 0 })
      .expect(200);
    expect(again.body.content).toBe(res.body.content);
  });

  it('streams tokens one by one through the OpenAI-compatible endpoint, stopping at max_tokens', async () => {
    const stream = await client.chat.completions.create({ model: 'stories260k', messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 20, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const pieces: string[] = [];
    let finish: string | null = null;
    let usage: { completion_tokens?: number } | null = null;
    for await (const c of stream) {
      const d = c.choices[0]?.delta?.content;
      if (d) pieces.push(d);
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
      if (c.usage) usage = c.usage;
    }
    expect(pieces.length).toBeGreaterThan(5);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(20);
  });

  it('a generation that outlives the attempt timeout is aborted and the request fails over', async () => {
    // warm up: the model is loaded lazily on first use, and on a busy machine the load alone can outlast this
    // provider's 1.5 s attempt timeout (the load goes on in the worker), so allow a few tries to get it loaded
    let warmProvider = '';
    for (let i = 0; i < 5 && warmProvider !== 'llama-tight'; i++) {
      const warm = await request(t.url)
        .post('/api/router/complete')
        .set('authorization', `Bearer ${t.adminKey}`)
        .send({ messages: [{ role: 'user', content: 'Once' }], model: 'llama-tight/stories-tight', max_tokens: 3 });
      warmProvider = warm.status === 200 ? (warm.body as { provider: string }).provider : '';
    }
    expect(warmProvider).toBe('llama-tight');
    const t0 = Date.now();
    const res = await request(t.url)
      .post('/api/router/complete')
      .set('authorization', `Bearer ${t.adminKey}`)
      .send({ messages: [{ role: 'user', content: 'Once' }], model: 'stories-tight', max_tokens: 100_000, temperature: 0.8 })
      .expect(200);
    expect(res.body.provider).toBe('fallback');
    expect(res.body.attempts[0]).toMatchObject({ provider: 'llama-tight', outcome: 'error', reason: 'timeout' });
    expect(res.body.attempts[0].latencyMs).toBeGreaterThanOrEqual(1450);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // decoding was really stopped: the worker is free again and answers a short request at once
    const t1 = Date.now();
    const ok = await request(t.url)
      .post('/api/router/complete')
      .set('authorization', `Bearer ${t.adminKey}`)
      .send({ messages: [{ role: 'user', content: 'Once' }], model: 'llama-tight/stories-tight', max_tokens: 3 })
      .expect(200);
    expect(ok.body.provider).toBe('llama-tight');
    expect(Date.now() - t1).toBeLessThan(1000);
  });

  it('a missing model file is reported as unavailable (not retried) and the next provider answers', async () => {
    const res = await request(t.url).post('/api/router/complete').set('authorization', `Bearer ${t.adminKey}`).send({ messages: [{ role: 'user', content: 'x' }], model: 'ghost' }).expect(200);
    expect(res.body.provider).toBe('fallback');
    expect(res.body.attempts[0]).toMatchObject({ provider: 'llama-missing', outcome: 'error', reason: 'unavailable' });
    expect(res.body.attempts[0].error).toContain('model file not found');
    const probe = await request(t.url).post('/api/router/providers/llama-missing/control').set('authorization', `Bearer ${t.adminKey}`).send({ action: 'probe' }).expect(200);
    expect(probe.body.provider.reachable).toBe(false);
  });
});
