import request from 'supertest';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';

type Attempt = { provider: string; outcome: string; reason?: string; error?: string };
type Provider = { name: string; status: string; statusReason: string; hint: string | null; circuitState: string; reachable: boolean | null };
const MSG = [{ role: 'user', content: 'status?' }];
const TIMEOUT_MS = 400;

/**
 * Issue 12, item 2: the router page's data is honest. Against a protocol-faithful fake Ollama: hints name the failure
 * class that happened (timeout, refused, 5xx, missing model), timeouts are retried as configured, status and its
 * reason agree, and a recovered provider's circuit closes through probe trials with no user traffic.
 */
describe.each(databaseKinds())('llm-router honest state (%s)', (db) => {
  let ollama: FakeLlmServer;
  let t: TestApp;
  const auth = () => ({ authorization: `Bearer ${t.adminKey}` });
  const provider = async (): Promise<Provider> => ((await request(t.url).get('/api/router/providers').set(auth()).expect(200)).body as Provider[])[0];
  const complete = () => request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG });
  const headSeq = async () => (await request(t.url).get('/api/router/status').set(auth()).expect(200)).body.headSeq as number;
  /** `to` of the circuit transitions logged after `seq`, oldest first (events are written after the transition). */
  const circuitEvents = async (seq: number) => {
    const ev = await request(t.url).get(`/api/events?type=router.provider_state_changed&after=${seq}&limit=50`).set(auth()).expect(200);
    return (ev.body.items as { seq: number; data: { field: string; to: unknown } }[])
      .sort((a, b) => a.seq - b.seq)
      .filter((e) => e.data.field === 'circuit')
      .map((e) => String(e.data.to));
  };
  /** Fails the next request so the circuit opens, and waits until that transition is in the log. */
  const outage = async () => {
    const seq = await headSeq();
    ollama.setFault({ kind: 'status', status: 500 });
    await complete().expect(503);
    await waitFor(async () => (await circuitEvents(seq)).includes('open'));
    ollama.setFault(null);
    return headSeq();
  };
  const reset = async () => {
    await request(t.url).post('/api/router/providers/ollama-local/control').set(auth()).send({ action: 'reset_circuit' }).expect(200);
  };

  beforeAll(async () => {
    ollama = await startFake('ollama', 'ollama-local');
    const yaml = writeProvidersYaml({
      cascade: fastCascade({
        timeout_ms: TIMEOUT_MS,
        max_retries: 1,
        // threshold 2 = one failed request (first attempt + its retry) opens the circuit
        circuit_breaker: { failure_threshold: 2, recovery_timeout_ms: 60_000, half_open_max_calls: 2 },
        health_check: { interval_ms: 0, timeout_ms: 300 },
      }),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({ LLM_PROVIDERS_PATH: yaml }, db);
  });

  afterAll(async () => {
    await t?.close();
    await ollama.stop();
  });

  afterEach(async () => {
    ollama.reset();
    await reset();
  });

  it('shows the retry policy as configured', async () => {
    const s = (await request(t.url).get('/api/router/status').set(auth()).expect(200)).body;
    expect(s.retryPolicy).toMatchObject({
      timeoutMs: TIMEOUT_MS,
      maxRetries: 1,
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 20,
      circuitBreaker: { failureThreshold: 2, recoveryTimeoutMs: 60_000, halfOpenMaxCalls: 2 },
      providers: [{ name: 'ollama-local', timeoutMs: TIMEOUT_MS, maxRetries: 1 }],
    });
    expect(s.retryPolicy.retryOn).toEqual(expect.arrayContaining(['timeout', 'connection_refused', 'http_5xx']));
    expect(s.retryPolicy.retryOn).not.toContain('http_4xx');
  });

  it('timeout (Ollama answers, chat hangs): retried per the policy, the hint names the timeout, not "start Ollama"', async () => {
    ollama.setFault({ kind: 'hang' });
    const res = await complete().expect(503);
    const attempts = (res.body.details.attempts as Attempt[]).filter((a) => a.provider === 'ollama-local');
    expect(attempts.map((a) => a.reason)).toEqual(['timeout', 'timeout']); // first attempt + max_retries 1
    expect(res.body.message).toContain(`did not answer within ${TIMEOUT_MS} ms`);
    expect(res.body.message).not.toMatch(/start Ollama|ollama pull/);

    await request(t.url).post('/api/router/providers/ollama-local/control').set(auth()).send({ action: 'probe' }).expect(200);
    const p = await provider();
    // the probe (/api/tags) answers, the chat trial times out: reachable, circuit still open, one story everywhere
    expect(p).toMatchObject({ reachable: true, circuitState: 'open', status: 'unhealthy' });
    expect(p.statusReason).toMatch(/^circuit open after \d+ consecutive failure\(s\) \(last: timeout\)/);
    expect(p.hint).toContain(`did not answer within ${TIMEOUT_MS} ms`);
  });

  it('connection refused: the hint says nothing answers at the URL and how to start Ollama', async () => {
    await ollama.stop();
    try {
      const res = await complete().expect(503);
      expect(res.body.message).toContain(`nothing answers at ${ollama.url}: start Ollama there (ollama serve)`);
      expect((await provider()).hint).toContain('nothing answers at');
    } finally {
      await ollama.start();
    }
  });

  it('HTTP 5xx: the hint points at the server, not at starting it', async () => {
    ollama.fail({ kind: 'status', status: 503, message: 'model runner crashed' }, 2);
    const res = await complete().expect(503);
    expect((res.body.details.attempts as Attempt[]).map((a) => a.reason)).toEqual(['http_503', 'http_503']);
    expect(res.body.message).toContain('answered with a server error');
    expect(res.body.message).not.toContain('start Ollama');
  });

  it('missing model (Ollama 404 "try pulling it"): not retried, breaker untouched, the hint says which model to pull', async () => {
    ollama.pulledModels = ['qwen2.5'];
    const res = await complete().expect(503);
    const attempts = res.body.details.attempts as Attempt[];
    expect(attempts.map((a) => a.reason)).toEqual(['http_404']);
    expect(res.body.message).toContain('is up but does not have llama3.2: pull it (ollama pull llama3.2)');
    const p = await provider();
    expect(p.circuitState).toBe('closed'); // the request was wrong, not the provider
  });

  it('after an outage a probe closes the circuit with no user traffic: open -> half_open -> closed, status healthy', async () => {
    const seqBefore = await outage();
    expect(await provider()).toMatchObject({ circuitState: 'open', status: 'unhealthy' });
    const before = ollama.chatRequests().length;
    const r = await request(t.url).post('/api/router/providers/ollama-local/control').set(auth()).send({ action: 'probe' }).expect(200);
    expect(r.body.provider).toMatchObject({ circuitState: 'closed', status: 'healthy', statusReason: 'serving', hint: null });
    // two trial completions (half_open_max_calls 2), one token each; nothing else reached the model
    const trials = ollama.chatRequests().slice(before);
    expect(trials.map((x) => (x.body as { options: { num_predict: number } }).options.num_predict)).toEqual([1, 1]);
    const changes = await waitFor(async () => {
      const circuit = await circuitEvents(seqBefore);
      return circuit.includes('closed') ? circuit : null;
    });
    expect(changes).toEqual(['half_open', 'closed']);
  });

  it('a failed trial re-opens a half-open circuit', async () => {
    const seqBefore = await outage();
    // first trial passes (open -> half_open), the second fails (half_open -> open)
    ollama.fail({ kind: 'slowFirstByte', delayMs: 1 }, 1).fail({ kind: 'status', status: 500 }, 1);
    await request(t.url).post('/api/router/providers/ollama-local/control').set(auth()).send({ action: 'probe' }).expect(200);
    const p = await provider();
    expect(p).toMatchObject({ circuitState: 'open', status: 'unhealthy' });
    expect(p.hint).toContain('answered with a server error');
    const changes = await waitFor(async () => {
      const circuit = await circuitEvents(seqBefore);
      return circuit.length >= 2 ? circuit : null;
    });
    expect(changes).toEqual(['half_open', 'open']);
  });
});
