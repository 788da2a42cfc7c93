import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CascadeEngine } from './cascade-engine';
import { CircuitBreaker } from './circuit-breaker';
import type { AdapterRequest, AdapterResult, ProviderAdapter, ProviderConfig, RouterConfig, StreamChunk } from './llm-router.types';
import { ProviderStats } from './provider-stats';
import { buildConfig, defaultModel, expandEnv, loadProvidersConfig, ProvidersConfigError } from './providers-config';
import { nextStep } from './retry-policy';
import { ProviderCallError, parseRetryAfter, RouterUnavailableError, sanitizeError } from './router.errors';

/** A provider double scripted per call: 'ok' answers, an error fails that call. */
class ScriptedAdapter implements ProviderAdapter {
  calls: AdapterRequest[] = [];
  constructor(
    private readonly name: string,
    public script: ('ok' | ProviderCallError)[] = [],
  ) {}
  async complete(req: AdapterRequest): Promise<AdapterResult> {
    this.calls.push(req);
    const step = this.script.shift() ?? 'ok';
    if (step !== 'ok') throw step;
    return { content: `answer from ${this.name}`, model: req.model, usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7 }, finishReason: 'stop' };
  }
  async *stream(req: AdapterRequest): AsyncGenerator<StreamChunk> {
    const r = await this.complete(req);
    yield { type: 'delta', text: r.content };
    yield { type: 'done', model: r.model, usage: r.usage, finishReason: 'stop' };
  }
  async probe(): Promise<void> {}
}

const fail503 = () => new ProviderCallError('http_5xx', 'upstream error 503', 503);

function config(providers: Record<string, unknown>[], cascade: Record<string, unknown> = {}): RouterConfig {
  return buildConfig(
    {
      cascade: { retry_base_delay_ms: 0, retry_max_delay_ms: 0, circuit_breaker: { failure_threshold: 3, recovery_timeout_ms: 60_000, half_open_max_calls: 2 }, ...cascade },
      providers,
    },
    null,
    {},
    [],
    true,
  );
}

function engineWith(cfg: RouterConfig, clock: () => number) {
  const adapters = new Map<string, ScriptedAdapter>();
  const engine = new CascadeEngine(cfg, {}, clock, (p: ProviderConfig) => {
    const a = new ScriptedAdapter(p.name);
    adapters.set(p.name, a);
    return a;
  });
  return { engine, adapters };
}

const P = (name: string, priority: number, extra: Record<string, unknown> = {}) => ({ name, type: 'ollama', priority, url: 'http://127.0.0.1:1', models: [{ name: 'm', default: true }], ...extra });
const MSG = [{ role: 'user' as const, content: 'hi' }];

describe('cascade router (ported prototype tests + its two breaker bugs)', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  describe(ProviderStats.name, () => {
    it('empty metrics are zero', () => {
      const m = new ProviderStats(60_000, 3_600_000, clock).snapshot(0);
      expect(m).toMatchObject({ requests: 0, successes: 0, failures: 0, errorRate: 0, avgLatencyMs: null, p50: null });
    });
    it('error rate = failed / total; average latency over successful calls (the prototype averaged failures as 0 ms)', () => {
      const s = new ProviderStats(60_000, 3_600_000, clock);
      s.record(true, 100);
      s.record(true, 200);
      s.record(false, 0, 0, 0, 0, 'x');
      const m = s.snapshot(1);
      expect(m.errorRate).toBe(0.333);
      expect(m.avgLatencyMs).toBe(150);
      expect(m.p50).toBe(100);
      expect(m.p99).toBe(200);
    });
    it('one success gives total 1 / success 1 / consecutive 0; one failure gives failed 1 / consecutive 1', async () => {
      const { engine, adapters } = engineWith(config([P('a', 1, { max_retries: 0 }), P('b', 2)]), clock);
      await engine.complete({ messages: MSG });
      const a = engine.get('a');
      expect(engine.toDto(a).metrics).toMatchObject({ requests: 1, successes: 1, consecutiveFailures: 0 });
      adapters.get('a')!.script = [fail503()];
      await engine.complete({ messages: MSG });
      expect(engine.toDto(a).metrics).toMatchObject({ requests: 2, failures: 1, consecutiveFailures: 1 });
    });
  });

  describe('configuration', () => {
    it('default model: the one marked default, else the first, else null', () => {
      expect(defaultModel({ models: [{ name: 'x', default: false, contextWindow: null, costPer1kInputUsd: 0, costPer1kOutputUsd: 0 }, { name: 'y', default: true, contextWindow: null, costPer1kInputUsd: 0, costPer1kOutputUsd: 0 }] })).toBe('y');
      expect(defaultModel({ models: [{ name: 'x', default: false, contextWindow: null, costPer1kInputUsd: 0, costPer1kOutputUsd: 0 }] })).toBe('x');
      expect(defaultModel({ models: [] })).toBeNull();
    });
    it('defaults are 30000 ms / 2 retries / threshold 5; a missing file means no providers and a warning', () => {
      const c = loadProvidersConfig(join(tmpdir(), 'does-not-exist-mc.yaml'));
      expect(c).toMatchObject({ timeoutMs: 30_000, maxRetries: 2, allowCloudFallback: false, circuitBreaker: { failureThreshold: 5, recoveryTimeoutMs: 60_000, halfOpenMaxCalls: 2 } });
      expect(c.providers).toHaveLength(0);
      expect(c.warnings[0]).toMatch(/not found/);
    });
    it('${VAR} is expanded; an unset variable disables the provider with the reason (the prototype kept the literal as a key)', () => {
      const c = buildConfig(
        { cascade: { timeout_ms: 1234, max_retries: 4 }, providers: [{ name: 'o', type: 'openai', api_key: '${K1}', models: ['g'] }, { name: 'p', type: 'openai', api_key: '${K2}', models: ['g'] }] },
        'x.yaml',
        { K1: 'secret' },
        [],
        true,
      );
      expect(c.timeoutMs).toBe(1234);
      expect(c.maxRetries).toBe(4);
      expect(c.providers.find((p) => p.name === 'o')).toMatchObject({ apiKey: 'secret', misconfiguredReason: null, tier: 'cloud' });
      expect(c.providers.find((p) => p.name === 'p')).toMatchObject({ apiKey: null, misconfiguredReason: 'environment variable K2 is not set' });
      expect(expandEnv('${OLLAMA_URL:-http://127.0.0.1:11434}/x', {})).toEqual({ value: 'http://127.0.0.1:11434/x', missing: [] });
      expect(expandEnv('${OLLAMA_URL:-http://127.0.0.1:11434}', { OLLAMA_URL: 'http://gpu-box:11434' }).value).toBe('http://gpu-box:11434');
    });
    it('disabled providers are loaded (and can be enabled later), sorted by priority', () => {
      const c = config([P('late', 5), P('off', 1, { enabled: false })]);
      expect(c.providers.map((p) => [p.name, p.enabled])).toEqual([['off', false], ['late', true]]);
    });
    it('the shipped config/providers.yaml is valid: local Ollama first, llama-cpp off, cloud only with keys and opt-in', () => {
      const c = loadProvidersConfig(join(__dirname, '..', '..', '..', '..', 'config', 'providers.yaml'), {});
      expect(c.allowCloudFallback).toBe(false);
      expect(c.providers.map((p) => [p.name, p.type, p.tier, p.enabled])).toEqual([
        ['ollama-local', 'ollama', 'local', true],
        ['llama-cpp-local', 'llama-cpp', 'local', false],
        ['openai', 'openai', 'cloud', true],
        ['anthropic', 'anthropic', 'cloud', true],
      ]);
      expect(c.providers[0].url).toBe('http://127.0.0.1:11434');
      expect(c.providers[2].misconfiguredReason).toBe('environment variable OPENAI_API_KEY is not set');
      expect(c.providers[3].misconfiguredReason).toBe('environment variable ANTHROPIC_API_KEY is not set');
    });
    it('rejects a bad file with every problem listed', () => {
      const dir = mkdtempSync(join(tmpdir(), 'mc-cfg-'));
      const f = join(dir, 'p.yaml');
      writeFileSync(f, 'cascade:\n  timeout_ms: -1\n  bogus: 1\nproviders:\n  - name: a\n    type: grok\n  - name: a\n    type: ollama\n    url: not a url\n    models: [m]\n');
      let err: ProvidersConfigError | null = null;
      try {
        loadProvidersConfig(f);
      } catch (e) {
        err = e as ProvidersConfigError;
      }
      expect(err).toBeInstanceOf(ProvidersConfigError);
      const text = err!.message;
      expect(text).toContain('cascade.timeout_ms: must be an integer between 1');
      expect(text).toContain('cascade.bogus: unknown key');
      expect(text).toContain('providers[0].type: must be one of ollama, openai, anthropic, llama-cpp');
      expect(text).toContain('providers[1].name: duplicate provider name "a"');
      expect(text).toContain('providers[1].url: not a valid URL');
      writeFileSync(f, 'providers: [oops');
      expect(() => loadProvidersConfig(f)).toThrow(/YAML syntax/);
    });
  });

  describe(CircuitBreaker.name, () => {
    const cb = () => new CircuitBreaker({ failureThreshold: 3, recoveryTimeoutMs: 60_000, halfOpenMaxCalls: 2 }, clock);
    it('3 failures at threshold 3 open the circuit and set openedAt; status becomes unhealthy', async () => {
      const b = cb();
      b.onFailure('x');
      b.onFailure('x');
      expect(b.state).toBe('closed');
      b.onFailure('x');
      expect(b.state).toBe('open');
      expect(b.openedAt).toBe(now);
      const { engine, adapters } = engineWith(config([P('a', 1, { max_retries: 2 }), P('b', 2)]), clock);
      adapters.get('a')!.script = [fail503(), fail503(), fail503()];
      await engine.complete({ messages: MSG });
      expect(engine.toDto(engine.get('a'))).toMatchObject({ circuitState: 'open', status: 'unhealthy', circuitOpenedAt: new Date(now).toISOString() });
    });
    it('an open circuit refuses at once; after the recovery timeout it admits trials (half-open), at most half_open_max_calls', () => {
      const b = cb();
      for (let i = 0; i < 3; i++) b.onFailure('x');
      expect(b.admit()).toMatchObject({ allowed: false, reason: 'circuit_open' });
      now += 60_000;
      expect(b.admit()).toEqual({ allowed: true, trial: true });
      expect(b.state).toBe('half_open');
      expect(b.admit()).toEqual({ allowed: true, trial: true });
      expect(b.admit()).toMatchObject({ allowed: false, reason: 'half_open_busy' });
    });
    it('a failed trial re-opens the circuit with a fresh openedAt', () => {
      const b = cb();
      for (let i = 0; i < 3; i++) b.onFailure('x');
      now += 60_000;
      b.admit();
      b.onFailure('still down');
      expect(b.state).toBe('open');
      expect(b.openedAt).toBe(now);
    });
  });

  it('prototype bug 2: half-open closes after its successful trials and the provider is healthy again', async () => {
    const { engine, adapters } = engineWith(config([P('a', 1, { max_retries: 0 }), P('b', 2)]), clock);
    adapters.get('a')!.script = [fail503(), fail503(), fail503()];
    for (let i = 0; i < 3; i++) await engine.complete({ messages: MSG });
    const a = engine.get('a');
    expect(a.breaker.state).toBe('open');
    now += 60_000;
    // On the prototype the status stayed "unhealthy", every request reset half_open_calls to 0 and the circuit never
    // closed while the error rate (3 failures) stayed >= 0.3. Here two successful trials close it.
    const r1 = await engine.complete({ messages: MSG });
    expect(r1.provider).toBe('a');
    expect(a.breaker.state).toBe('half_open');
    expect(engine.status(a)).toBe('degraded');
    await engine.complete({ messages: MSG });
    expect(a.breaker.state).toBe('closed');
    expect(a.breaker.consecutiveFailures).toBe(0);
    expect(engine.toDto(a).metrics.errorRate).toBeGreaterThanOrEqual(0.5); // healing does not wait for the error rate
    const r3 = await engine.complete({ messages: MSG });
    expect(r3.provider).toBe('a');
  });

  it('prototype bug 1: a new provider whose first request fails on every attempt is not skipped afterwards', async () => {
    const { engine, adapters } = engineWith(config([P('a', 1, { max_retries: 1 })], { circuit_breaker: { failure_threshold: 5 } }), clock);
    adapters.get('a')!.script = [fail503(), fail503()];
    await expect(engine.complete({ messages: MSG })).rejects.toBeInstanceOf(RouterUnavailableError);
    // prototype: error rate 1.0 -> "unhealthy" with a closed circuit and no opened_at -> skipped forever,
    // later calls failing with "All providers failed: " and an empty detail
    const r = await engine.complete({ messages: MSG });
    expect(r.provider).toBe('a');
  });

  it('complete() returns content, provider, model, usage, latency and attempts; temperature defaults to 0.7', async () => {
    const { engine, adapters } = engineWith(config([P('a', 1)]), clock);
    const r = await engine.complete({ messages: MSG });
    expect(r).toMatchObject({ content: 'answer from a', provider: 'a', model: 'm', usage: { totalTokens: 7 }, attempts: [{ provider: 'a', outcome: 'success' }] });
    expect(adapters.get('a')!.calls[0].temperature).toBe(0.7);
  });

  it('failover: provider 1 fails twice (retries exhausted), provider 2 answers', async () => {
    const { engine, adapters } = engineWith(config([P('a', 1, { max_retries: 1 }), P('b', 2)]), clock);
    adapters.get('a')!.script = [fail503(), fail503()];
    const r = await engine.complete({ messages: MSG });
    expect(r.provider).toBe('b');
    expect(r.attempts.map((x) => `${x.provider}:${x.outcome}`)).toEqual(['a:error', 'a:error', 'b:success']);
  });

  it('if every provider fails the error says "All providers failed" with the details', async () => {
    const { engine, adapters } = engineWith(config([P('a', 1, { max_retries: 0 }), P('b', 2, { max_retries: 0 })]), clock);
    adapters.get('a')!.script = [fail503()];
    adapters.get('b')!.script = [new ProviderCallError('connection_refused', 'connection refused')];
    const err = (await engine.complete({ messages: MSG }).catch((e) => e)) as RouterUnavailableError;
    expect(err).toBeInstanceOf(RouterUnavailableError);
    expect(err.statusCode).toBe(503);
    expect(err.message).toContain('All providers failed: a: http_503');
    expect(err.message).toContain('b: connection_refused');
    expect(err.attempts).toHaveLength(2);
  });

  it('a provider whose circuit just opened is skipped (without a call); a disabled provider is skipped', async () => {
    const { engine, adapters } = engineWith(config([P('a', 1, { max_retries: 0 }), P('b', 2), P('c', 0, { enabled: false })]), clock);
    adapters.get('a')!.script = [fail503(), fail503(), fail503()];
    for (let i = 0; i < 3; i++) await engine.complete({ messages: MSG });
    const calls = adapters.get('a')!.calls.length;
    const r = await engine.complete({ messages: MSG });
    expect(adapters.get('a')!.calls.length).toBe(calls);
    expect(r.attempts[0]).toMatchObject({ provider: 'c', outcome: 'skipped', reason: 'disabled' });
    expect(r.attempts[1]).toMatchObject({ provider: 'a', outcome: 'skipped', reason: 'circuit_open' });
    expect(adapters.get('c')!.calls).toHaveLength(0);
  });

  it('never retries a non-retryable 4xx; a 4xx does not count against the breaker', async () => {
    const { engine, adapters } = engineWith(config([P('a', 1, { max_retries: 3 }), P('b', 2)]), clock);
    adapters.get('a')!.script = [new ProviderCallError('http_4xx', 'bad request', 400)];
    const r = await engine.complete({ messages: MSG });
    expect(adapters.get('a')!.calls).toHaveLength(1);
    expect(r.provider).toBe('b');
    expect(engine.get('a').breaker.consecutiveFailures).toBe(0);
  });

  it('retry policy: exponential backoff with jitter, Retry-After honoured, too-long Retry-After moves on', () => {
    const s = { retryBaseDelayMs: 100, retryMaxDelayMs: 1000, maxRetryAfterMs: 5000 };
    expect(nextStep(fail503(), 0, 2, s, () => 0)).toEqual({ action: 'retry', delayMs: 50 });
    expect(nextStep(fail503(), 2, 2, s, () => 1)).toEqual({ action: 'retry', delayMs: 400 });
    expect(nextStep(fail503(), 5, 2, s, () => 1)).toEqual({ action: 'retry', delayMs: 1000 });
    expect(nextStep(fail503(), 0, 0, s)).toMatchObject({ action: 'next' });
    expect(nextStep(new ProviderCallError('rate_limited', 'x', 429, 2000), 0, 1, s, () => 0)).toEqual({ action: 'retry', delayMs: 2000 });
    expect(nextStep(new ProviderCallError('rate_limited', 'x', 429, 9000), 0, 1, s)).toMatchObject({ action: 'next' });
    expect(nextStep(new ProviderCallError('http_4xx', 'x', 404), 0, 3, s)).toMatchObject({ action: 'next' });
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(parseRetryAfter('soon')).toBeNull();
  });

  it('cloud providers are skipped unless allow_cloud_fallback; the daily budget stops cloud use', async () => {
    const cloud = { name: 'cloud', type: 'openai', priority: 2, api_key: 'k', models: [{ name: 'g', default: true, cost_per_1k_input_usd: 1000, cost_per_1k_output_usd: 1000 }] };
    const off = engineWith(config([P('a', 1, { max_retries: 0 }), cloud]), clock);
    off.adapters.get('a')!.script = [fail503()];
    const e1 = (await off.engine.complete({ messages: MSG }).catch((e) => e)) as RouterUnavailableError;
    expect(e1.attempts.find((x) => x.provider === 'cloud')).toMatchObject({ outcome: 'skipped', reason: 'cloud_not_allowed' });
    expect(off.adapters.get('cloud')!.calls).toHaveLength(0);
    expect(e1.message).toContain('allow_cloud_fallback');

    const exhausted: number[] = [];
    const cfg = config([cloud], { allow_cloud_fallback: true, cloud_daily_budget_usd: 5 });
    const on = new CascadeEngine(cfg, { onBudgetExhausted: (spent) => exhausted.push(spent) }, clock, (p) => new ScriptedAdapter(p.name));
    const r = await on.complete({ messages: MSG });
    expect(r.provider).toBe('cloud'); // 7 tokens x $1/token = $7 >= $5
    expect(exhausted).toHaveLength(1);
    const e2 = (await on.complete({ messages: MSG }).catch((e) => e)) as RouterUnavailableError;
    expect(e2.attempts[0]).toMatchObject({ provider: 'cloud', outcome: 'skipped', reason: 'budget_exhausted' });
    expect(on.toDto(on.get('cloud')).metrics.costTodayUsd).toBe(7);
  });

  it('no providers configured: 503 router/no_providers telling what to configure', async () => {
    const { engine } = engineWith(config([]), clock);
    const e = (await engine.complete({ messages: MSG }).catch((x) => x)) as RouterUnavailableError;
    expect(e.code).toBe('router/no_providers');
    expect(e.message).toMatch(/providers\.yaml.*ollama/i);
  });

  it('error text is sanitised (no keys)', () => {
    expect(sanitizeError('bad key sk-abcdefghijklmnop and Bearer mck_123 here')).toBe('bad key [redacted] and [redacted] here');
  });
});
