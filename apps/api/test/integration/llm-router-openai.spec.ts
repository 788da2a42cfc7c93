import OpenAI from 'openai';
import http from 'node:http';
import request from 'supertest';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';

/** Raw SSE body of a streamed /v1/chat/completions call (to check what the wire says, not what a client makes of it). */
function rawStream(url: string, key: string, body: object): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe.each(databaseKinds())('llm-router OpenAI-compatible surface and streaming (%s)', (db) => {
  let ollama: FakeLlmServer;
  let openai: FakeLlmServer;
  let anthropic: FakeLlmServer;
  let t: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    ollama = await startFake('ollama', 'primary');
    openai = await startFake('openai', 'secondary');
    anthropic = await startFake('anthropic', 'claude-local');
    const yaml = writeProvidersYaml({
      cascade: fastCascade({ timeout_ms: 800, circuit_breaker: { failure_threshold: 50, recovery_timeout_ms: 400, half_open_max_calls: 1 } }),
      providers: [
        { name: 'primary', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] },
        { name: 'secondary', type: 'openai', tier: 'local', priority: 2, base_url: openai.url, models: [{ name: 'gpt-4o-mini', default: true }] },
        { name: 'claude-local', type: 'anthropic', tier: 'local', priority: 3, base_url: anthropic.url, api_key: 'ak-test', models: [{ name: 'claude-3-5-haiku-latest', default: true }] },
      ],
    });
    t = await startTestApp({ LLM_PROVIDERS_PATH: yaml }, db);
    client = new OpenAI({ apiKey: t.adminKey, baseURL: `${t.url}/v1`, maxRetries: 0, timeout: 10_000 });
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([ollama.stop(), openai.stop(), anthropic.stop()]);
  });

  beforeEach(() => {
    ollama.reset();
    openai.reset();
    anthropic.reset();
    ollama.reply = 'one two three four five six';
  });

  it('the official openai client lists models and gets a completion through the cascade', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining(['auto', 'llama3.2', 'gpt-4o-mini', 'claude-3-5-haiku-latest']));
    const r = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    expect(r.choices[0].message.content).toBe('one two three ');
    expect(r.choices[0].finish_reason).toBe('length');
    expect(r.model).toBe('llama3.2');
    expect(r.usage).toMatchObject({ completion_tokens: 3 });
    const bad = new OpenAI({ apiKey: 'mck_wrong', baseURL: `${t.url}/v1`, maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401 });
  });

  it('streams tokens as SSE with usage and [DONE]', async () => {
    const stream = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    const pieces: string[] = [];
    let usage: unknown = null;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta?.content;
      if (d) pieces.push(d);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces.join('')).toBe('one two three four five six');
    expect(pieces.length).toBe(6);
    expect(usage).toMatchObject({ completion_tokens: 6 });
    const raw = await rawStream(t.url, t.adminKey, { model: 'auto', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(raw.text.trim().endsWith('data: [DONE]')).toBe(true);
    // the SSE response takes over the raw socket: the security headers set by the onRequest hook are carried over
    expect(raw.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(raw.headers['x-content-type-options']).toBe('nosniff');
    expect(raw.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('fails over before the first token (cut before any token, slow first byte past the timeout)', async () => {
    ollama.fail({ kind: 'cutStream', afterChunks: 0 }, 2);
    const s1 = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const c of s1) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from secondary');
    expect(ollama.chatCount).toBe(2);

    ollama.reset();
    ollama.fail({ kind: 'slowFirstByte', delayMs: 1500 }, 2);
    const t0 = Date.now();
    const raw = await rawStream(t.url, t.adminKey, { model: 'auto', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(raw.status).toBe(200);
    expect(raw.text).toContain('Hello');
    expect(raw.text).toContain('secondary');
    expect(raw.text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500); // two timed-out attempts of 800 ms
    const events = await waitFor(async () => {
      const r = await request(t.url).get('/api/events?type=router.failover').set('authorization', `Bearer ${t.adminKey}`).expect(200);
      return r.body.items.find((e: { data: { reason: string } }) => e.data.reason === 'timeout');
    });
    expect(events.data).toMatchObject({ from: 'primary', to: 'secondary' });
  });

  it('a failure after the first token ends the stream with an explicit error, never a clean end', async () => {
    ollama.fail({ kind: 'cutStream', afterChunks: 2 });
    const stream = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    let caught: unknown = null;
    try {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    } catch (err) {
      caught = err;
    }
    expect(text).toBe('one two ');
    expect(caught).toBeInstanceOf(OpenAI.APIError);
    expect(String((caught as Error).message)).toMatch(/after the first token/);
    expect(openai.chatCount).toBe(0); // no failover once text was sent

    ollama.fail({ kind: 'endWithoutDone', afterChunks: 3 });
    const raw = await rawStream(t.url, t.adminKey, { model: 'auto', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(raw.text).toContain('"code":"router/stream_interrupted"');
    expect(raw.text).not.toContain('[DONE]');
    expect(raw.text).toContain('"content":"three "');
  });

  it('all providers failing before the first token is a 503 JSON error for a streaming request', async () => {
    ollama.setFault({ kind: 'status', status: 503 });
    openai.setFault({ kind: 'reset' });
    anthropic.setFault({ kind: 'errorBody' });
    await expect(client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }], stream: true })).rejects.toMatchObject({ status: 503 });
    const raw = await rawStream(t.url, t.adminKey, { model: 'auto', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(raw.status).toBe(503);
    expect(JSON.parse(raw.text)).toMatchObject({ code: 'router/all_providers_failed' });
  });

  it('speaks the Anthropic Messages protocol, streaming and not (system prompt moved to `system`)', async () => {
    anthropic.reply = 'bonjour le monde';
    const r = await client.chat.completions.create({ model: 'claude-3-5-haiku-latest', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }] });
    expect(r.choices[0].message.content).toBe('bonjour le monde');
    const sent = anthropic.chatRequests()[0];
    expect(sent.body).toMatchObject({ system: 'be brief', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1024 });
    expect(sent.headers['x-api-key']).toBe('ak-test');
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    const s = await client.chat.completions.create({ model: 'claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: { completion_tokens?: number } | null = null;
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('bonjour le monde');
    expect(usage?.completion_tokens).toBe(3);
    anthropic.fail({ kind: 'cutStream', afterChunks: 1 });
    const raw = await rawStream(t.url, t.adminKey, { model: 'claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(raw.text).toContain('router/stream_interrupted');
    expect(raw.text).not.toContain('[DONE]');
  });
});
