import type { RouterAttempt, RouterProviderDto, RouterProviderStatus, RouterUsage } from '@app/contracts';
import { AppError } from '../common/app-error';
import { AnthropicAdapter } from './adapters/anthropic.adapter';
import { LlamaCppAdapter } from './adapters/llama-cpp.adapter';
import { OllamaAdapter } from './adapters/ollama.adapter';
import { OpenAiAdapter } from './adapters/openai.adapter';
import { CircuitBreaker, type Admission, type CircuitTransition } from './circuit-breaker';
import type { AdapterRequest, ChatMessage, CompletionRequest, CompletionResult, ProviderAdapter, ProviderConfig, RouterConfig, StreamChunk } from './llm-router.types';
import { ProviderStats } from './provider-stats';
import { defaultModel } from './providers-config';
import { nextStep, sleep } from './retry-policy';
import { failureClass, hintFor } from './router-hints';
import { routerError, ProviderCallError, RouterUnavailableError, sanitizeError } from './router.errors';

/** Default sampling temperature when a request gives none (prototype default). */
export const DEFAULT_TEMPERATURE = 0.7;

/** A provider that gave up, to be announced as `router.failover` when the next one is admitted. */
interface FailoverState {
  pending: { from: string; reason: string } | null;
}

/** Live state of one configured provider. */
export interface ProviderRuntime {
  cfg: ProviderConfig;
  adapter: ProviderAdapter;
  breaker: CircuitBreaker;
  stats: ProviderStats;
  /** Operator override of `cfg.enabled` (persisted); null = as configured. */
  enabledOverride: boolean | null;
  reachable: boolean | null;
  lastProbeAt: string | null;
  /** Set when circuit/enabled state changed since the last flush. */
  stateDirty: boolean;
  /** Last failed attempt since the last success (cleared by a success): what the hint is about. Times epoch ms. */
  lastFailure: { reason: string; error: string; model: string | null; at: number } | null;
  /** `reason: message` of the last failed probe (null after a passed one). */
  lastProbeError: { reason: string; error: string } | null;
}

/** Callbacks the Nest service turns into events, persistence and Prometheus samples. Must not throw. */
export interface EngineHooks {
  onCircuit?(p: ProviderRuntime, t: CircuitTransition): void;
  onFailover?(from: string, to: string | null, reason: string, requestId: string): void;
  onAttempt?(p: ProviderRuntime, ok: boolean, latencyMs: number, usage: RouterUsage | null, costUsd: number): void;
  onBudgetExhausted?(spentUsd: number, budgetUsd: number): void;
}

/** A streamed routed completion: `start` once a provider produced its first token, deltas, then `end`. */
export type RoutedStreamEvent =
  | { type: 'start'; provider: string; model: string; attempts: RouterAttempt[] }
  | { type: 'delta'; text: string }
  | { type: 'end'; result: CompletionResult };

/**
 * A stream that failed after its first token: no failover is possible any more (the client already has part of the
 * answer), so the caller must end the stream with an explicit error, never a clean end.
 */
export class StreamInterruptedError extends AppError {
  constructor(
    readonly provider: string,
    message: string,
    readonly attempts: RouterAttempt[],
  ) {
    super('router/stream_interrupted', message, 502, { attempts });
    this.name = 'StreamInterruptedError';
  }
}

/** Builds the adapter for a provider type. */
export function createAdapter(p: ProviderConfig): ProviderAdapter {
  switch (p.type) {
    case 'ollama':
      return new OllamaAdapter(p);
    case 'openai':
      return new OpenAiAdapter(p);
    case 'anthropic':
      return new AnthropicAdapter(p);
    case 'llama-cpp':
      return new LlamaCppAdapter(p);
  }
}

interface Candidate {
  rt: ProviderRuntime;
  model: string;
}

let requestCounter = 0;

/**
 * The cascade: providers in priority order, per-provider circuit breakers, retries with backoff, failover, metrics.
 * Framework-free (the Nest service wraps it); `now` is injectable for tests. All numbers in ms / USD.
 */
export class CascadeEngine {
  readonly providers: ProviderRuntime[];
  private budgetAnnouncedDay = '';

  constructor(
    readonly config: RouterConfig,
    private readonly hooks: EngineHooks = {},
    private readonly now: () => number = Date.now,
    adapterFactory: (p: ProviderConfig) => ProviderAdapter = createAdapter,
  ) {
    this.providers = config.providers.map((cfg) => {
      const rt: ProviderRuntime = {
        cfg,
        adapter: adapterFactory(cfg),
        breaker: null as unknown as CircuitBreaker,
        stats: new ProviderStats(config.metrics.bucketSeconds * 1000, config.metrics.historyMinutes * 60_000, now),
        enabledOverride: null,
        reachable: null,
        lastProbeAt: null,
        stateDirty: false,
        lastFailure: null,
        lastProbeError: null,
      };
      rt.breaker = new CircuitBreaker(config.circuitBreaker, now, (t) => {
        rt.stateDirty = true;
        this.hooks.onCircuit?.(rt, t);
      });
      return rt;
    });
  }

  /** Provider by name. @throws AppError 404 `router/provider_not_found` */
  get(name: string): ProviderRuntime {
    const rt = this.providers.find((p) => p.cfg.name === name);
    if (!rt) throw routerError('router/provider_not_found', `Provider ${name} not found`, 404);
    return rt;
  }

  isEnabled(rt: ProviderRuntime): boolean {
    return rt.cfg.misconfiguredReason === null && (rt.enabledOverride ?? rt.cfg.enabled);
  }

  /** Spend of all cloud providers today (UTC), USD. */
  cloudSpentToday(): number {
    let s = 0;
    for (const p of this.providers) if (p.cfg.tier === 'cloud') s += p.stats.costToday();
    return s;
  }

  budgetExhausted(): boolean {
    const b = this.config.cloudDailyBudgetUsd;
    return b !== null && this.cloudSpentToday() >= b;
  }

  /** Why a provider cannot be used for any request right now (null = usable, subject to its breaker). */
  unusableReason(rt: ProviderRuntime): { reason: string; text: string } | null {
    if (rt.cfg.misconfiguredReason) return { reason: 'misconfigured', text: rt.cfg.misconfiguredReason };
    if (!this.isEnabled(rt)) return { reason: 'disabled', text: rt.enabledOverride === false ? 'disabled by an operator' : 'disabled in the providers file' };
    if (rt.cfg.tier === 'cloud' && !this.config.allowCloudFallback) return { reason: 'cloud_not_allowed', text: 'cloud provider and allow_cloud_fallback is off' };
    if (rt.cfg.tier === 'cloud' && this.budgetExhausted()) return { reason: 'budget_exhausted', text: `daily cloud budget of $${this.config.cloudDailyBudgetUsd} is spent` };
    return null;
  }

  /** Derived status (never a gate by itself: only `enabled` and the breaker decide whether a provider is tried). */
  status(rt: ProviderRuntime): RouterProviderStatus {
    return this.statusWithReason(rt).status;
  }

  /**
   * The status and the one sentence that explains it. The dashboard shows only this (card, header badge and summary
   * all read it), so they cannot contradict each other; e.g. no "healthy" next to "high error rate".
   * Error rate: attempts of the last 5 minutes since the circuit last closed (`recentErrorRate`), the same for the
   * status and its reason, so a provider that recovered is not kept "degraded" by the failures of its outage.
   */
  statusWithReason(rt: ProviderRuntime): { status: RouterProviderStatus; reason: string } {
    if (!this.isEnabled(rt)) return { status: 'disabled', reason: this.unusableReason(rt)?.text ?? 'disabled' };
    const b = rt.breaker;
    const last = rt.lastFailure ? ` (last: ${rt.lastFailure.reason})` : '';
    if (b.state === 'open') {
      return { status: 'unhealthy', reason: `circuit open after ${b.consecutiveFailures} consecutive failure(s)${last}: requests skip it until a health probe or a trial request succeeds` };
    }
    const probe = rt.lastProbeError ? `health probe failed (${rt.lastProbeError.reason})` : 'health probe failed';
    if (rt.reachable === false && b.consecutiveFailures > 0) return { status: 'unhealthy', reason: `${probe} and the last request failed${last}` };
    if (b.state === 'half_open') {
      const t = b.trialProgress;
      return { status: 'degraded', reason: `circuit half-open: ${t.succeeded}/${t.needed} trial(s) passed; closes when all pass, re-opens on a failure` };
    }
    if (rt.reachable === false) return { status: 'degraded', reason: `last ${probe}` };
    const rate = rt.stats.recentErrorRate(5 * 60_000, b.lastClosedAt);
    if (rate > 0.1) return { status: 'degraded', reason: `high error rate: ${(rate * 100).toFixed(0)} % of recent requests failed${last}` };
    if (rt.reachable === null && rt.stats.requests === 0) return { status: 'healthy', reason: 'no requests or probes yet' };
    return { status: 'healthy', reason: rate > 0 ? `serving (${(rate * 100).toFixed(0)} % of recent requests failed)` : 'serving' };
  }

  /** What to do about the provider's latest failure (request or probe), by failure class; null when it is fine. */
  hint(rt: ProviderRuntime): string | null {
    if (!this.isEnabled(rt) || this.status(rt) === 'healthy') return null;
    const f = rt.lastFailure ?? (rt.reachable === false ? rt.lastProbeError : null);
    if (!f) return null;
    const model = (rt.lastFailure?.model ?? null) || defaultModel(rt.cfg);
    return hintFor(rt.cfg, failureClass(f.reason, f.error), model, rt.cfg.timeoutMs);
  }

  /** First provider a default request would go to now, or null. */
  preferred(): ProviderRuntime | null {
    for (const rt of this.providers) {
      if (this.unusableReason(rt)) continue;
      if (!rt.breaker.wouldAdmit()) continue;
      if (rt.reachable === false) continue;
      if (defaultModel(rt.cfg) === null) continue;
      return rt;
    }
    return null;
  }

  /** Provider DTO (no secrets). */
  toDto(rt: ProviderRuntime): RouterProviderDto {
    const unusable = this.unusableReason(rt);
    const sr = this.statusWithReason(rt);
    let endpoint: string | null = rt.cfg.type === 'llama-cpp' ? rt.cfg.modelPath : rt.cfg.url;
    if (endpoint && rt.cfg.type !== 'llama-cpp') {
      try {
        const u = new URL(endpoint);
        u.username = '';
        u.password = '';
        u.search = '';
        endpoint = u.toString().replace(/\/$/, '');
      } catch {
        endpoint = null;
      }
    }
    return {
      name: rt.cfg.name,
      type: rt.cfg.type,
      tier: rt.cfg.tier,
      priority: rt.cfg.priority,
      enabled: this.isEnabled(rt),
      disabledReason: unusable?.text ?? null,
      status: sr.status,
      statusReason: sr.reason,
      hint: this.hint(rt),
      circuitState: rt.breaker.state,
      circuitOpenedAt: rt.breaker.openedAt === null ? null : new Date(rt.breaker.openedAt).toISOString(),
      reachable: rt.reachable,
      lastProbeAt: rt.lastProbeAt,
      defaultModel: defaultModel(rt.cfg),
      models: rt.cfg.models.map((m) => m.name),
      endpoint,
      metrics: rt.stats.snapshot(rt.breaker.consecutiveFailures),
    };
  }

  /** Providers (and model) to try for `model`, in priority order. @throws AppError 404 `router/model_not_found` */
  private candidates(model: string | undefined): Candidate[] {
    if (!model || model === 'auto') {
      const out: Candidate[] = [];
      for (const rt of this.providers) {
        const m = defaultModel(rt.cfg);
        if (m) out.push({ rt, model: m });
      }
      return out;
    }
    const slash = model.indexOf('/');
    if (slash > 0) {
      const rt = this.providers.find((p) => p.cfg.name === model.slice(0, slash));
      if (rt) return [{ rt, model: model.slice(slash + 1) }];
    }
    const out = this.providers.filter((rt) => rt.cfg.models.some((m) => m.name === model)).map((rt) => ({ rt, model }));
    if (out.length === 0) {
      const known = [...new Set(this.providers.flatMap((p) => p.cfg.models.map((m) => m.name)))];
      throw routerError('router/model_not_found', `No provider serves model "${model}"; known models: ${known.join(', ') || 'none'} (or "auto")`, 404);
    }
    return out;
  }

  private costOf(rt: ProviderRuntime, model: string, usage: RouterUsage): number {
    if (rt.cfg.tier !== 'cloud') return 0;
    const m = rt.cfg.models.find((x) => x.name === model) ?? rt.cfg.models.find((x) => x.default) ?? rt.cfg.models[0];
    if (!m) return 0;
    return (usage.promptTokens / 1000) * m.costPer1kInputUsd + (usage.completionTokens / 1000) * m.costPer1kOutputUsd;
  }

  private recordSuccess(rt: ProviderRuntime, model: string, latencyMs: number, usage: RouterUsage): void {
    rt.breaker.onSuccess();
    rt.lastFailure = null;
    const cost = this.costOf(rt, model, usage);
    rt.stats.record(true, latencyMs, usage.promptTokens, usage.completionTokens, cost);
    this.hooks.onAttempt?.(rt, true, latencyMs, usage, cost);
    if (cost > 0 && this.config.cloudDailyBudgetUsd !== null && this.budgetExhausted()) {
      const day = new Date(this.now()).toISOString().slice(0, 10);
      if (day !== this.budgetAnnouncedDay) {
        this.budgetAnnouncedDay = day;
        this.hooks.onBudgetExhausted?.(this.cloudSpentToday(), this.config.cloudDailyBudgetUsd);
      }
    }
  }

  /** Records a failed attempt; returns whether it counted against the provider. */
  private recordFailure(rt: ProviderRuntime, err: ProviderCallError, latencyMs: number, trial: boolean, model: string): void {
    if (err.kind !== 'aborted') rt.lastFailure = { reason: err.reason, error: err.message, model, at: this.now() };
    if (err.countsAgainstProvider) {
      rt.stats.record(false, latencyMs, 0, 0, 0, `${err.reason}: ${err.message}`);
      this.hooks.onAttempt?.(rt, false, latencyMs, null, 0);
      rt.breaker.onFailure(err.reason);
    } else if (trial) {
      rt.breaker.releaseTrial();
    }
  }

  private attemptRequest(messages: ChatMessage[], model: string, req: CompletionRequest, rt: ProviderRuntime) {
    const ac = new AbortController();
    let timedOut = false;
    const timeoutMs = rt.cfg.timeoutMs;
    let timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, timeoutMs);
    const outer = req.signal;
    const onOuter = () => ac.abort();
    if (outer) {
      if (outer.aborted) ac.abort();
      else outer.addEventListener('abort', onOuter, { once: true });
    }
    const areq: AdapterRequest = {
      messages,
      model,
      temperature: req.temperature ?? DEFAULT_TEMPERATURE,
      maxTokens: req.max_tokens ?? null,
      signal: ac.signal,
      timedOut: () => timedOut,
    };
    return {
      areq,
      /** Restarts the idle timer (streams: each chunk). */
      touch: () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          timedOut = true;
          ac.abort();
        }, timeoutMs);
      },
      dispose: () => {
        clearTimeout(timer);
        outer?.removeEventListener('abort', onOuter);
      },
    };
  }

  private unavailable(attempts: RouterAttempt[]): RouterUnavailableError {
    if (this.providers.length === 0) {
      return new RouterUnavailableError(
        `No LLM provider is configured: add one to ${this.config.path ?? 'config/providers.yaml'} (LLM_PROVIDERS_PATH), e.g. a local Ollama (type: ollama, url: http://127.0.0.1:11434)`,
        attempts,
        'router/no_providers',
      );
    }
    const parts = attempts.map((a) => `${a.provider}: ${a.outcome === 'skipped' ? `skipped (${a.error ?? a.reason})` : `${a.reason}${a.error ? ` ${a.error}` : ''}`}`);
    const hints: string[] = [];
    const tried = new Set(attempts.map((a) => a.provider));
    for (const rt of this.providers) {
      if (!tried.has(rt.cfg.name)) continue;
      const u = this.unusableReason(rt);
      if (u?.reason === 'misconfigured') hints.push(`set ${rt.cfg.misconfiguredReason?.replace(/^environment variable (.*) is not set$/, '$1')} for ${rt.cfg.name}`);
      else if (u?.reason === 'cloud_not_allowed') hints.push(`set cascade.allow_cloud_fallback: true to let ${rt.cfg.name} be used`);
      else if (u?.reason === 'disabled') hints.push(`enable ${rt.cfg.name} (POST /api/router/providers/${rt.cfg.name}/control {"action":"enable"})`);
      else {
        // the hint names the failure class that actually happened at this provider in this request
        const lastError = [...attempts].reverse().find((a) => a.provider === rt.cfg.name && a.outcome === 'error');
        if (lastError) hints.push(hintFor(rt.cfg, failureClass(lastError.reason ?? '', lastError.error), lastError.model, rt.cfg.timeoutMs));
        else if (attempts.some((a) => a.provider === rt.cfg.name && a.reason === 'circuit_open')) {
          const why = rt.lastFailure ? ` (last failure: ${rt.lastFailure.reason}; ${hintFor(rt.cfg, failureClass(rt.lastFailure.reason, rt.lastFailure.error), rt.lastFailure.model, rt.cfg.timeoutMs)})` : '';
          hints.push(`the circuit of ${rt.cfg.name} is open after repeated failures${why}; it closes after a passed health probe, or reset it on the Router page`);
        }
      }
    }
    const hint = hints.length > 0 ? ` To fix: ${[...new Set(hints)].join('; ')}. Providers are configured in ${this.config.path ?? 'config/providers.yaml'}.` : '';
    return new RouterUnavailableError(`All providers failed: ${parts.join('; ')}.${hint}`, attempts);
  }

  /**
   * After failed attempt `n` (0-based) of `maxRetries` retries: decides whether to retry the same provider (only a
   * closed breaker and a retryable error, per `nextStep`) and sleeps the backoff (ms) if so.
   * @returns true to retry, false to move on to the next provider
   * @throws AppError 499 `router/aborted` when the caller aborts during the backoff
   */
  private async backoffForRetry(
    rt: ProviderRuntime,
    err: ProviderCallError,
    n: number,
    maxRetries: number,
    signal: AbortSignal | undefined,
    attempts: RouterAttempt[],
  ): Promise<boolean> {
    if (rt.breaker.state !== 'closed') return false;
    const step = nextStep(err, n, maxRetries - n, this.config);
    if (step.action === 'next') return false;
    try {
      await sleep(step.delayMs, signal);
    } catch {
      throw routerError('router/aborted', 'Request aborted by the caller', 499, { attempts });
    }
    return rt.breaker.state === 'closed';
  }

  /**
   * Walks the candidates of a request in priority order, recording unusable and breaker-refused providers as
   * `skipped` attempts, and yields each admitted one (with its breaker admission). Announces a pending failover
   * (`failover.pending`, set by the caller after a provider gave up) when the next provider is admitted.
   * @throws AppError 404 `router/model_not_found` for an unknown model (on the first iteration)
   */
  private *admitted(
    reqModel: string | undefined,
    attempts: RouterAttempt[],
    failover: FailoverState,
    requestId: string,
  ): Generator<{ rt: ProviderRuntime; model: string; name: string; adm: Extract<Admission, { allowed: true }> }> {
    for (const { rt, model } of this.candidates(reqModel)) {
      const name = rt.cfg.name;
      const unusable = this.unusableReason(rt);
      if (unusable) {
        attempts.push({ provider: name, model, outcome: 'skipped', reason: unusable.reason, error: unusable.text, latencyMs: 0 });
        continue;
      }
      const adm = rt.breaker.admit();
      if (!adm.allowed) {
        attempts.push({ provider: name, model, outcome: 'skipped', reason: adm.reason, latencyMs: 0 });
        continue;
      }
      if (failover.pending) {
        this.hooks.onFailover?.(failover.pending.from, name, failover.pending.reason, requestId);
        failover.pending = null;
      }
      yield { rt, model, name, adm };
    }
  }

  /**
   * Routes one non-streaming completion.
   * @returns `{content, provider, model, latencyMs, usage, attempts}`
   * @throws RouterUnavailableError (503) with the attempts when every provider failed or was skipped;
   *   AppError 404 `router/model_not_found`; AppError 499 `router/aborted` when `req.signal` aborted.
   */
  async complete(req: CompletionRequest): Promise<CompletionResult> {
    const t0 = performance.now();
    const requestId = `r${++requestCounter}`;
    const attempts: RouterAttempt[] = [];
    const failover: FailoverState = { pending: null };
    for (const { rt, model, name, adm } of this.admitted(req.model, attempts, failover, requestId)) {
      const maxRetries = adm.trial ? 0 : rt.cfg.maxRetries;
      let lastReason = '';
      for (let n = 0; n <= maxRetries; n++) {
        const ta = performance.now();
        const ctl = this.attemptRequest(req.messages, model, req, rt);
        try {
          const r = await rt.adapter.complete(ctl.areq);
          const latencyMs = round(performance.now() - ta);
          this.recordSuccess(rt, r.model, latencyMs, r.usage);
          attempts.push({ provider: name, model: r.model, outcome: 'success', latencyMs });
          return { content: r.content, provider: name, model: r.model, latencyMs: round(performance.now() - t0), usage: r.usage, attempts, finishReason: r.finishReason };
        } catch (e) {
          const err = e instanceof ProviderCallError ? e : new ProviderCallError('bad_response', sanitizeError((e as Error)?.message ?? String(e)));
          const latencyMs = round(performance.now() - ta);
          if (req.signal?.aborted) {
            if (adm.trial) rt.breaker.releaseTrial();
            throw routerError('router/aborted', 'Request aborted by the caller', 499, { attempts });
          }
          this.recordFailure(rt, err, latencyMs, adm.trial, model);
          attempts.push({ provider: name, model, outcome: 'error', reason: err.reason, error: err.message, latencyMs });
          lastReason = err.reason;
          if (!(await this.backoffForRetry(rt, err, n, maxRetries, req.signal, attempts))) break;
        } finally {
          ctl.dispose();
        }
      }
      failover.pending = { from: name, reason: lastReason };
    }
    if (failover.pending) this.hooks.onFailover?.(failover.pending.from, null, failover.pending.reason, requestId);
    throw this.unavailable(attempts);
  }

  /**
   * Routes a streaming completion. Failover (and retries) happen only before the first token; once a provider has
   * produced text, a failure throws StreamInterruptedError (the caller must surface it as an explicit error event).
   * @throws RouterUnavailableError before the first event when nothing could start; AppError 404/499 as `complete`.
   */
  async *stream(req: CompletionRequest): AsyncGenerator<RoutedStreamEvent> {
    const t0 = performance.now();
    const requestId = `r${++requestCounter}`;
    const attempts: RouterAttempt[] = [];
    const failover: FailoverState = { pending: null };
    for (const { rt, model, name, adm } of this.admitted(req.model, attempts, failover, requestId)) {
      const maxRetries = adm.trial ? 0 : rt.cfg.maxRetries;
      let lastReason = '';
      for (let n = 0; n <= maxRetries; n++) {
        const ta = performance.now();
        const ctl = this.attemptRequest(req.messages, model, req, rt);
        let started = false;
        let text = '';
        const it = rt.adapter.stream(ctl.areq)[Symbol.asyncIterator]();
        try {
          for (;;) {
            const step = await it.next();
            if (step.done) throw new ProviderCallError('stream_interrupted', 'stream ended without a final chunk');
            ctl.touch();
            const chunk: StreamChunk = step.value;
            if (chunk.type === 'delta') {
              if (!started) {
                started = true;
                yield { type: 'start', provider: name, model, attempts: [...attempts] };
              }
              text += chunk.text;
              yield { type: 'delta', text: chunk.text };
              continue;
            }
            const latencyMs = round(performance.now() - ta);
            this.recordSuccess(rt, chunk.model, latencyMs, chunk.usage);
            attempts.push({ provider: name, model: chunk.model, outcome: 'success', latencyMs });
            if (!started) yield { type: 'start', provider: name, model: chunk.model, attempts: attempts.slice(0, -1) };
            yield { type: 'end', result: { content: text, provider: name, model: chunk.model, latencyMs: round(performance.now() - t0), usage: chunk.usage, attempts, finishReason: chunk.finishReason } };
            return;
          }
        } catch (e) {
          if (e instanceof AppError) throw e;
          const err = e instanceof ProviderCallError ? e : new ProviderCallError('bad_response', sanitizeError((e as Error)?.message ?? String(e)));
          const latencyMs = round(performance.now() - ta);
          if (req.signal?.aborted) {
            if (adm.trial) rt.breaker.releaseTrial();
            throw routerError('router/aborted', 'Request aborted by the caller', 499, { attempts });
          }
          this.recordFailure(rt, err, latencyMs, adm.trial, model);
          attempts.push({ provider: name, model, outcome: 'error', reason: err.reason, error: err.message, latencyMs });
          if (started) {
            throw new StreamInterruptedError(name, `Stream from ${name} failed after the first token (${err.reason}: ${err.message}); the answer is incomplete`, attempts);
          }
          lastReason = err.reason;
          if (!(await this.backoffForRetry(rt, err, n, maxRetries, req.signal, attempts))) break;
        } finally {
          ctl.dispose();
          void it.return?.(undefined)?.catch(() => undefined);
        }
      }
      failover.pending = { from: name, reason: lastReason };
    }
    if (failover.pending) this.hooks.onFailover?.(failover.pending.from, null, failover.pending.reason, requestId);
    throw this.unavailable(attempts);
  }

  /**
   * A trial completion for a breaker that is not closed: "ping", one token (`max_tokens` 1), temperature 0, the
   * provider's default model and attempt timeout (ms). Not user traffic: not counted in the request metrics; a failure
   * is remembered as the provider's last failure (its hint), a success clears it.
   */
  async trialCompletion(rt: ProviderRuntime): Promise<{ ok: boolean; error: string | null }> {
    const model = defaultModel(rt.cfg);
    if (!model) return { ok: false, error: 'no default model' };
    const ctl = this.attemptRequest([{ role: 'user', content: 'ping' }], model, { messages: [], temperature: 0, max_tokens: 1 }, rt);
    try {
      await rt.adapter.complete(ctl.areq);
      rt.lastFailure = null;
      return { ok: true, error: null };
    } catch (e) {
      const err = e instanceof ProviderCallError ? e : new ProviderCallError('bad_response', sanitizeError((e as Error)?.message ?? String(e)));
      rt.lastFailure = { reason: err.reason, error: err.message, model, at: this.now() };
      return { ok: false, error: `${err.reason}: ${err.message}` };
    } finally {
      ctl.dispose();
    }
  }

  /**
   * Probes one provider now and updates `reachable`. The caller then feeds the verdict to the breaker with
   * `probeTrials`, after recording the reachability change, so events stay in order.
   */
  async probe(rt: ProviderRuntime): Promise<{ ok: boolean; error: string | null; latencyMs: number }> {
    const t = performance.now();
    let ok = true;
    let error: string | null = null;
    try {
      await rt.adapter.probe(this.config.healthCheck.timeoutMs);
      rt.lastProbeError = null;
    } catch (e) {
      ok = false;
      error = e instanceof ProviderCallError ? `${e.reason}: ${e.message}` : sanitizeError(String((e as Error)?.message ?? e));
      rt.lastProbeError = e instanceof ProviderCallError ? { reason: e.reason, error: e.message } : { reason: 'other', error };
    }
    rt.reachable = ok;
    rt.lastProbeAt = new Date(this.now()).toISOString();
    return { ok, error, latencyMs: round(performance.now() - t) };
  }
}

/**
 * Feeds a probe verdict to the provider's breaker (issue 12: a successful probe is a successful trial, so a recovered
 * provider closes without user traffic). While the circuit is open or half-open and the reachability probe passed,
 * runs trial completions (`CascadeEngine.trialCompletion`: one token, the default model, the attempt timeout): a
 * reachability check alone (`/api/tags`) does not prove that chat works again after a timeout, a 5xx or a missing
 * model. Each passed trial counts toward `halfOpenMaxCalls`, so one probe round goes open -> half_open -> closed; a
 * failed trial re-opens the circuit. Transitions are reported through the breaker's `onTransition` (events).
 * @returns the number of trial completions run (0 when the circuit was closed or the probe failed)
 */
export async function probeTrials(engine: CascadeEngine, rt: ProviderRuntime, first: { ok: boolean; error: string | null }): Promise<number> {
  if (!engine.isEnabled(rt) || rt.breaker.state === 'closed') return 0;
  if (!first.ok) {
    rt.breaker.probeFailed(first.error ?? 'probe failed');
    return 0;
  }
  let trials = 0;
  const closed = (): boolean => rt.breaker.state === 'closed';
  while (!closed() && trials < rt.breaker.trialProgress.needed) {
    trials++;
    const r = await engine.trialCompletion(rt);
    if (!r.ok) {
      rt.breaker.probeFailed(r.error ?? 'trial failed');
      break;
    }
    rt.breaker.probeSucceeded();
  }
  return trials;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
