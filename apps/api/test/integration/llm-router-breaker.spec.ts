import request from 'supertest';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';

type Attempt = { provider: string; outcome: string; reason?: string };
const MSG = [{ role: 'user', content: 'status?' }];
const THRESHOLD = 3;
// long enough that a 100-request burst on a loaded 2-core CI machine ends well inside one recovery window
const RECOVERY_MS = 3000;
const TRIALS = 2;

describe.each(databaseKinds())('llm-router circuit breaker under load (%s)', (db) => {
  let primary: FakeLlmServer;
  let backup: FakeLlmServer;
  let t: TestApp;
  const auth = () => ({ authorization: `Bearer ${t.adminKey}` });

  beforeAll(async () => {
    primary = await startFake('ollama', 'primary');
    backup = await startFake('openai', 'backup');
    const yaml = writeProvidersYaml({
      cascade: fastCascade({
        max_retries: 2,
        timeout_ms: 2000,
        circuit_breaker: { failure_threshold: THRESHOLD, recovery_timeout_ms: RECOVERY_MS, half_open_max_calls: TRIALS },
      }),
      providers: [
        { name: 'primary', type: 'ollama', priority: 1, url: primary.url, models: [{ name: 'llama3.2', default: true }] },
        { name: 'backup', type: 'openai', tier: 'local', priority: 2, base_url: backup.url, models: [{ name: 'gpt-4o-mini', default: true }] },
        // a provider that exists only to show the prototype's "failed once, lost for good" bug is gone
        { name: 'flaky', type: 'openai', tier: 'local', priority: 3, base_url: backup.url, max_retries: 1, models: [{ name: 'flaky-model', default: true }] },
      ],
    });
    t = await startTestApp({ LLM_PROVIDERS_PATH: yaml }, db);
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([primary.stop(), backup.stop()]);
  });

  const burst = async (n: number) => {
    const res = await Promise.all(Array.from({ length: n }, () => request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG })));
    for (const r of res) expect(r.status).toBe(200);
    return res.map((r) => r.body as { provider: string; attempts: Attempt[]; latencyMs: number });
  };
  const primaryTries = (bodies: { attempts: Attempt[] }[]) => bodies.flatMap((b) => b.attempts).filter((a) => a.provider === 'primary' && a.outcome !== 'skipped').length;
  const circuit = async () => ((await request(t.url).get('/api/router/providers').set(auth()).expect(200)).body as { name: string; circuitState: string }[]).find((p) => p.name === 'primary')!.circuitState;

  it('100 concurrent requests during a primary outage: trips once, then never waits on the open provider; half-open trials; recovery', async () => {
    await primary.stop(); // connection refused from now on

    // A: closed circuit, 100 at once. Each request that saw the circuit closed tries the primary once; retries stop as
    // soon as the circuit is open (at most THRESHOLD-1 retries happen before it opens). Everyone is served by the backup.
    const a = await burst(100);
    expect(a.every((b) => b.provider === 'backup')).toBe(true);
    expect(primaryTries(a)).toBeGreaterThanOrEqual(THRESHOLD);
    expect(primaryTries(a)).toBeLessThanOrEqual(100 + THRESHOLD - 1);
    expect(a.flatMap((b) => b.attempts).filter((x) => x.provider === 'primary' && x.outcome === 'error').every((x) => x.reason === 'connection_refused' || x.reason === 'connection_reset')).toBe(true);
    expect(await circuit()).toBe('open');

    // B: open circuit: zero primary attempts, every request skips it at once
    const b = await burst(100);
    expect(primaryTries(b)).toBe(0);
    expect(b.every((x) => x.attempts[0].provider === 'primary' && x.attempts[0].reason === 'circuit_open' && x.provider === 'backup')).toBe(true);

    // C: after the recovery timeout, still down: at most TRIALS trial requests reach the primary, and it re-opens
    await new Promise((r) => setTimeout(r, RECOVERY_MS + 50));
    const c = await burst(100);
    expect(primaryTries(c)).toBeGreaterThanOrEqual(1);
    expect(primaryTries(c)).toBeLessThanOrEqual(TRIALS);
    expect(c.every((x) => x.provider === 'backup')).toBe(true);
    expect(await circuit()).toBe('open');

    // D: primary back on the same port (slow, so the trials are still in flight while the burst arrives); after the
    // recovery timeout TRIALS trial requests reach it, everyone else arriving meanwhile is sent to the backup, and the
    // trials' successes close the circuit
    await primary.start();
    primary.latencyMs = 1200;
    await new Promise((r) => setTimeout(r, RECOVERY_MS + 50));
    const d = await burst(100);
    const viaPrimary = d.filter((x) => x.provider === 'primary');
    const viaBackup = d.filter((x) => x.provider === 'backup');
    expect(viaPrimary.length).toBeGreaterThanOrEqual(TRIALS);
    expect(viaBackup.length).toBeGreaterThan(0);
    expect(viaBackup.every((x) => x.attempts[0].reason === 'half_open_busy')).toBe(true);
    expect(viaPrimary.every((x) => x.attempts.length === 1)).toBe(true);
    expect(await circuit()).toBe('closed');
    primary.latencyMs = 0;
    const e = await burst(10);
    expect(e.every((x) => x.provider === 'primary')).toBe(true);

    // the transitions were published on the router channel in order
    const transitions = await waitFor(async () => {
      const r = await request(t.url).get('/api/events?type=router.provider_state_changed&limit=100').set(auth()).expect(200);
      const items = (r.body.items as { seq: number; data: { provider: string; field: string; to: string } }[])
        .filter((x) => x.data.provider === 'primary' && x.data.field === 'circuit')
        .sort((p, q) => p.seq - q.seq)
        .map((x) => x.data.to);
      return items.length >= 5 ? items : null;
    });
    expect(transitions).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });

  it('prototype bug 1: a provider whose first requests all fail is tried again on the next request (never lost for good)', async () => {
    backup.reset();
    backup.fail({ kind: 'status', status: 500 }, 2); // the very first request of `flaky` fails on both of its attempts
    const first = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG, model: 'flaky-model' }).expect(503);
    expect(first.body.details.attempts).toHaveLength(2);
    const p = ((await request(t.url).get('/api/router/providers').set(auth())).body as { name: string; circuitState: string; metrics: { errorRate: number } }[]).find((x) => x.name === 'flaky')!;
    expect(p.metrics.errorRate).toBe(1); // the prototype marked this unhealthy with a closed circuit and skipped it forever
    expect(p.circuitState).toBe('closed');
    const second = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: MSG, model: 'flaky-model' }).expect(200);
    expect(second.body).toMatchObject({ provider: 'flaky', attempts: [{ provider: 'flaky', outcome: 'success' }] });
  });
});

describe.each(databaseKinds())('llm-router background health probes (%s)', (db) => {
  let upstream: FakeLlmServer;
  let t: TestApp;
  const auth = () => ({ authorization: `Bearer ${t.adminKey}` });
  const provider = async () => ((await request(t.url).get('/api/router/providers').set(auth()).expect(200)).body as { name: string; reachable: boolean | null; status: string; circuitState: string }[])[0];

  beforeAll(async () => {
    upstream = await startFake('ollama', 'probed');
    const yaml = writeProvidersYaml({
      cascade: fastCascade({
        max_retries: 0,
        health_check: { interval_ms: 150, timeout_ms: 300 },
        circuit_breaker: { failure_threshold: 1, recovery_timeout_ms: 60_000, half_open_max_calls: 1 },
      }),
      providers: [{ name: 'probed', type: 'ollama', priority: 1, url: upstream.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({ LLM_PROVIDERS_PATH: yaml }, db);
  });

  afterAll(async () => {
    await t?.close();
    await upstream.stop();
  });

  it('probes in the background (never blocking start-up), reports reachability changes, and a passed probe closes an open circuit without traffic', async () => {
    await waitFor(async () => (await provider()).reachable === true);
    expect(upstream.requests.some((r) => r.method === 'GET' && r.path === '/api/tags')).toBe(true);
    await upstream.stop();
    await waitFor(async () => (await provider()).reachable === false);
    // a failed request opens the circuit (threshold 1); the probe alone never does
    await request(t.url).post('/api/router/complete').set(auth()).send({ messages: [{ role: 'user', content: 'x' }] }).expect(503);
    expect((await provider()).circuitState).toBe('open');
    await upstream.start();
    // recovery_timeout is 60 s, but a passed probe is a successful trial (issue 12): open -> half_open -> closed with
    // no user traffic at all (the trial is a one-token completion sent by the probe)
    const chatsBefore = upstream.chatRequests().length;
    await waitFor(async () => (await provider()).circuitState === 'closed');
    const trials = upstream.chatRequests().slice(chatsBefore);
    expect(trials.length).toBe(1); // half_open_max_calls: 1
    expect(trials[0].body).toMatchObject({ options: { num_predict: 1 }, messages: [{ role: 'user', content: 'ping' }] });
    expect(await provider()).toMatchObject({ status: 'healthy', reachable: true });
    const ok = await request(t.url).post('/api/router/complete').set(auth()).send({ messages: [{ role: 'user', content: 'x' }] }).expect(200);
    expect(ok.body.provider).toBe('probed');
    const changes = await waitFor(async () => {
      const r = await request(t.url).get('/api/events?type=router.provider_state_changed&limit=50').set(auth()).expect(200);
      const items = (r.body.items as { seq: number; data: { field: string; to: unknown } }[]).sort((a, b) => a.seq - b.seq).map((e) => `${e.data.field}:${String(e.data.to)}`);
      return items.includes('circuit:closed') ? items : null;
    });
    expect(changes).toEqual(['reachable:false', 'circuit:open', 'reachable:true', 'circuit:half_open', 'circuit:closed']);
  });
});
