import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import type {
  NewEvent,
  RouterConfigDto,
  RouterControlAction,
  RouterControlResponse,
  RouterMetricsDto,
  RouterProviderDto,
  RouterProviderStateChangedData,
  RouterStatusDto,
} from '@app/contracts';
import { DataSource, In, MoreThanOrEqual } from 'typeorm';
import { nowIso } from '../common/time.util';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogWriter } from '../event-log/event-log.writer';
import { EventLogReader } from '../event-log/event-log.reader';
import { CascadeEngine, probeTrials, type ProviderRuntime, type RoutedStreamEvent } from './cascade-engine';
import type { CircuitTransition } from './circuit-breaker';
import { LlmProviderEntity } from './entities/llm-provider.entity';
import { ProviderMetricEntity } from './entities/provider-metric.entity';
import type { CompletionRequest, CompletionResult, RouterConfig } from './llm-router.types';
import { loadProvidersConfig, resolveProvidersPath } from './providers-config';
import { RouterPromMetrics } from './router-prom.metrics';
import { routerError, RETRYABLE } from './router.errors';

const SOURCE = 'llm-router';
const MICRO = 1_000_000;

/**
 * The one way the product talks to an LLM (BRIEF section 3, issue 3).
 *
 * Wraps the framework-free `CascadeEngine` (priority cascade, circuit breakers, retries, failover) with:
 * configuration from `providers.yaml` (validated at boot), persistence of state and metrics in `llm_providers` /
 * `provider_metrics` (flushed periodically and on shutdown, never per request), `router.*` events, background
 * health probes that never block start-up, operator controls and Prometheus samples.
 */
@Injectable()
export class LlmRouterService implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LlmRouter');
  private engineRef: CascadeEngine | null = null;
  private readonly createdAt = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  /** Providers whose background probe is in flight (never two at once per provider). */
  private readonly probing = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;
  private flushing: Promise<void> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly appConfig: AppConfig,
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
    private readonly dataSource: DataSource,
    private readonly prom: RouterPromMetrics,
  ) {}

  /** The engine (for tests and the benchmark). */
  get engine(): CascadeEngine {
    if (!this.engineRef) throw routerError('router/not_ready', 'LLM router is not initialised', 503);
    return this.engineRef;
  }

  get config(): RouterConfig {
    return this.engine.config;
  }

  /** Loads and validates the providers file, then restores persisted state. @throws ProvidersConfigError (boot fails) */
  async onModuleInit(): Promise<void> {
    const path = resolveProvidersPath(this.appConfig.LLM_PROVIDERS_PATH);
    const cfg = loadProvidersConfig(path);
    for (const w of cfg.warnings) this.logger.warn(w);
    this.engineRef = new CascadeEngine(cfg, {
      onCircuit: (rt, t) => this.onCircuit(rt, t),
      onFailover: (from, to, reason, requestId) => {
        this.prom.failovers.inc({ from, to: to ?? 'none' });
        this.track(this.events.append([{ type: 'router.failover', source: SOURCE, data: { from, to, reason, requestId } }]));
      },
      onAttempt: (rt, ok, latencyMs, usage, cost) => {
        const provider = rt.cfg.name;
        this.prom.requests.inc({ provider, outcome: ok ? 'success' : 'failure' });
        if (!ok) return;
        this.prom.duration.observe({ provider }, latencyMs / 1000);
        if (usage) {
          if (usage.promptTokens) this.prom.tokens.inc({ provider, direction: 'in' }, usage.promptTokens);
          if (usage.completionTokens) this.prom.tokens.inc({ provider, direction: 'out' }, usage.completionTokens);
        }
        if (cost > 0) this.prom.cost.inc({ provider }, cost);
      },
      onBudgetExhausted: (spent, budget) => {
        this.track(
          this.events.append([
            { type: 'router.budget_exhausted', source: SOURCE, data: { spentUsd: round6(spent), budgetUsd: budget, day: nowIso().slice(0, 10), reason: 'cloud providers are skipped until midnight UTC' } },
          ]),
        );
      },
    });
    this.prom.setSource({
      providers: () =>
        this.engine.providers.map((p) => ({ name: p.cfg.name, circuit: p.breaker.state, consecutiveFailures: p.breaker.consecutiveFailures, reachable: p.reachable, enabled: this.engine.isEnabled(p) })),
    });
    await this.restore();
  }

  onApplicationBootstrap(): void {
    const cfg = this.config;
    this.flushTimer = setInterval(() => void this.flush().catch((e) => this.logger.error(`metrics flush failed: ${(e as Error).message}`)), cfg.metrics.flushIntervalMs);
    this.flushTimer.unref();
    if (cfg.healthCheck.intervalMs > 0 && this.engine.providers.length > 0) {
      // first probe right after start-up, in the background (never blocks boot)
      setTimeout(() => void this.probeAll(), 0).unref();
      this.probeTimer = setInterval(() => void this.probeAll(), cfg.healthCheck.intervalMs);
      this.probeTimer.unref();
    }
  }

  /** Final flush and adapter shutdown (the event log is still open at this point). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    await Promise.allSettled([...this.inflight]);
    await this.flush().catch((e) => this.logger.error(`final metrics flush failed: ${(e as Error).message}`));
    await Promise.allSettled(this.engineRef?.providers.map((p) => p.adapter.close?.()) ?? []);
  }

  // ------------------------------------------------------------------ routing

  /**
   * Routes a chat completion through the cascade.
   * @param req `{messages, model?, temperature? (default 0.7), max_tokens?, signal?}`
   * @returns `{content, provider, model, latencyMs, usage, attempts}` (latency in ms)
   * @throws RouterUnavailableError 503 `router/all_providers_failed` | `router/no_providers` with `details.attempts`
   *   and a message saying what to configure; AppError 404 `router/model_not_found`; 499 `router/aborted`.
   */
  complete(req: CompletionRequest): Promise<CompletionResult> {
    return this.engine.complete(req);
  }

  /**
   * Streaming variant: events `start` (provider chosen, first token arrived), `delta`..., `end` (with the result).
   * Failover only before the first token; afterwards a failure throws `StreamInterruptedError`.
   */
  stream(req: CompletionRequest): AsyncGenerator<RoutedStreamEvent> {
    return this.engine.stream(req);
  }

  // ------------------------------------------------------------------ reads

  /**
   * Why a default request could not be served now, or null when some provider would take it (the provider the
   * cascade would try first: usable, breaker admitting, not known unreachable, with a default model). Personas do not
   * bid while this is non-null.
   */
  unavailableReason(): string | null {
    const e = this.engine;
    if (e.preferred()) return null;
    if (e.providers.length === 0) return `no LLM provider is configured (${e.config.path ?? 'config/providers.yaml'})`;
    const parts = e.providers.map((p) => {
      const s = e.statusWithReason(p);
      return `${p.cfg.name} ${s.status} (${s.reason})`;
    });
    return `no LLM provider can serve requests: ${parts.join('; ')}`;
  }

  providers(): RouterProviderDto[] {
    return this.engine.providers.map((p) => this.engine.toDto(p));
  }

  async status(): Promise<RouterStatusDto> {
    const headSeq = await this.reader.getHeadSeq();
    const providers = this.providers();
    const count = (s: string) => providers.filter((p) => p.status === s).length;
    const e = this.engine;
    return {
      totalProviders: providers.length,
      healthyProviders: count('healthy'),
      degradedProviders: count('degraded'),
      unhealthyProviders: count('unhealthy'),
      disabledProviders: count('disabled'),
      preferredProvider: e.preferred()?.cfg.name ?? null,
      allowCloudFallback: e.config.allowCloudFallback,
      budget: { dailyUsd: e.config.cloudDailyBudgetUsd, spentTodayUsd: round6(e.cloudSpentToday()), exhausted: e.budgetExhausted() },
      providers,
      retryPolicy: {
        timeoutMs: e.config.timeoutMs,
        maxRetries: e.config.maxRetries,
        retryBaseDelayMs: e.config.retryBaseDelayMs,
        retryMaxDelayMs: e.config.retryMaxDelayMs,
        maxRetryAfterMs: e.config.maxRetryAfterMs,
        retryOn: [...RETRYABLE],
        circuitBreaker: { ...e.config.circuitBreaker },
        healthCheck: { ...e.config.healthCheck },
        providers: e.providers.map((p) => ({ name: p.cfg.name, timeoutMs: p.cfg.timeoutMs, maxRetries: p.cfg.maxRetries })),
      },
      headSeq,
    };
  }

  async metrics(): Promise<RouterMetricsDto> {
    const headSeq = await this.reader.getHeadSeq();
    return {
      bucketSeconds: this.config.metrics.bucketSeconds,
      providers: this.engine.providers.map((p) => ({
        name: p.cfg.name,
        type: p.cfg.type,
        status: this.engine.status(p),
        circuitState: p.breaker.state,
        metrics: p.stats.snapshot(p.breaker.consecutiveFailures),
        series: p.stats.series(),
      })),
      headSeq,
    };
  }

  /** The effective configuration without secrets (no api keys, no URLs with credentials). */
  configDto(): RouterConfigDto {
    const c = this.config;
    return {
      path: c.path,
      loaded: c.loaded,
      warnings: c.warnings,
      timeoutMs: c.timeoutMs,
      maxRetries: c.maxRetries,
      retryBaseDelayMs: c.retryBaseDelayMs,
      retryMaxDelayMs: c.retryMaxDelayMs,
      allowCloudFallback: c.allowCloudFallback,
      cloudDailyBudgetUsd: c.cloudDailyBudgetUsd,
      circuitBreaker: { ...c.circuitBreaker },
      healthCheck: { ...c.healthCheck },
      providers: this.engine.providers.map((p) => ({
        name: p.cfg.name,
        type: p.cfg.type,
        tier: p.cfg.tier,
        priority: p.cfg.priority,
        enabled: this.engine.isEnabled(p),
        models: p.cfg.models.map((m) => m.name),
      })),
    };
  }

  // ------------------------------------------------------------------ controls

  /**
   * Operator control of one provider. `enable`/`disable` persist an override; `reset_circuit` closes the breaker and
   * clears its counters; `probe` runs the health probe now.
   * @throws AppError 404 `router/provider_not_found`; 409 `router/provider_misconfigured` (enable with a missing env var)
   */
  async control(name: string, action: RouterControlAction): Promise<RouterControlResponse> {
    const e = this.engine;
    const rt = e.get(name);
    let message: string;
    const changes: RouterProviderStateChangedData[] = [];
    switch (action) {
      case 'enable': {
        if (rt.cfg.misconfiguredReason) {
          throw routerError('router/provider_misconfigured', `Provider ${name} cannot be enabled: ${rt.cfg.misconfiguredReason}`, 409);
        }
        const was = e.isEnabled(rt);
        rt.enabledOverride = true;
        if (!was) changes.push({ provider: name, field: 'enabled', from: false, to: true, reason: 'enabled by an operator' });
        message = `Provider ${name} enabled`;
        break;
      }
      case 'disable': {
        const was = e.isEnabled(rt);
        rt.enabledOverride = false;
        if (was) changes.push({ provider: name, field: 'enabled', from: true, to: false, reason: 'disabled by an operator' });
        message = `Provider ${name} disabled`;
        break;
      }
      case 'reset_circuit': {
        rt.breaker.reset('reset by an operator'); // the transition event is written by onCircuit
        message = `Circuit of ${name} reset (closed)`;
        break;
      }
      case 'probe': {
        const before = rt.reachable;
        const r = await e.probe(rt);
        if (before !== null && before !== r.ok) changes.push({ provider: name, field: 'reachable', from: before, to: r.ok, reason: r.error ?? 'probe succeeded' });
        rt.stateDirty = true;
        await this.persistState(rt, changes);
        changes.length = 0;
        await probeTrials(e, rt, r); // a passed probe is a trial: open -> half_open -> closed (events written by onCircuit)
        message = r.ok ? `Provider ${name} is reachable (${r.latencyMs} ms)` : `Provider ${name} is not reachable: ${r.error}`;
        break;
      }
      default:
        throw routerError('router/unknown_action', `Unknown action: ${String(action)}`, 400);
    }
    rt.stateDirty = true;
    await this.persistState(rt, changes);
    return { message, provider: e.toDto(rt) };
  }

  // ------------------------------------------------------------------ persistence and events

  private track<T>(p: Promise<T>): void {
    const q = p.catch((err) => {
      if (!this.stopped) this.logger.error(`router event write failed: ${(err as Error).message}`);
    });
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  private onCircuit(rt: ProviderRuntime, t: CircuitTransition): void {
    this.track(this.persistState(rt, [{ provider: rt.cfg.name, field: 'circuit', from: t.from, to: t.to, reason: t.reason }]));
  }

  /** Writes the provider row (state + totals) with its state-change events in one transaction. */
  private async persistState(rt: ProviderRuntime, changes: RouterProviderStateChangedData[]): Promise<void> {
    const row = this.toRow(rt);
    rt.stateDirty = false;
    await this.events.write(async ({ manager, append }) => {
      await manager.upsert(LlmProviderEntity, row, ['name']);
      for (const c of changes) append({ type: 'router.provider_state_changed', source: SOURCE, data: { ...c } });
    });
  }

  private toRow(rt: ProviderRuntime): LlmProviderEntity {
    const t = rt.stats.totals();
    const now = nowIso();
    if (!this.createdAt.has(rt.cfg.name)) this.createdAt.set(rt.cfg.name, now);
    return {
      name: rt.cfg.name,
      type: rt.cfg.type,
      tier: rt.cfg.tier,
      enabledOverride: rt.enabledOverride,
      circuitState: rt.breaker.state,
      circuitOpenedAt: rt.breaker.openedAt === null ? null : new Date(rt.breaker.openedAt).toISOString(),
      consecutiveFailures: rt.breaker.consecutiveFailures,
      requests: t.requests,
      successes: t.successes,
      failures: t.failures,
      latencySumMs: t.latencySumMs,
      tokensIn: t.tokensIn,
      tokensOut: t.tokensOut,
      costMicroUsd: Math.round(t.costUsd * MICRO),
      costDay: t.costDay,
      costTodayMicroUsd: Math.round(t.costTodayUsd * MICRO),
      latencySamples: JSON.stringify(t.latencySamples.map((x) => Math.round(x * 1000) / 1000)),
      lastErrorAt: t.lastErrorAt,
      lastError: t.lastError ? t.lastError.slice(0, 300) : null,
      lastSuccessAt: t.lastSuccessAt,
      createdAt: this.createdAt.get(rt.cfg.name)!,
      updatedAt: now,
    };
  }

  /**
   * Persists what changed since the last flush (provider totals + touched buckets) in one transaction with one
   * `router.metrics_flushed` event. No-op when nothing changed. Concurrent calls share one flush.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.doFlush().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    if (!this.engineRef) return;
    const dirty = this.engineRef.providers.filter((p) => p.stats.dirty || p.stateDirty);
    if (dirty.length === 0) return;
    const now = nowIso();
    const rows = dirty.map((p) => {
      p.stats.dirty = false;
      p.stateDirty = false;
      return this.toRow(p);
    });
    const buckets: ProviderMetricEntity[] = dirty.flatMap((p) =>
      p.stats.takeDirtyBuckets().map((b) => ({
        provider: p.cfg.name,
        bucketStart: b.bucketStart,
        requests: b.requests,
        successes: b.successes,
        failures: b.failures,
        latencySumMs: b.latencySumMs,
        p50: b.p50,
        p95: b.p95,
        p99: b.p99,
        tokensIn: b.tokensIn,
        tokensOut: b.tokensOut,
        costMicroUsd: Math.round(b.costUsd * MICRO),
        createdAt: now,
        updatedAt: now,
      })),
    );
    const summary = dirty.map((p) => {
      const m = p.stats.snapshot(p.breaker.consecutiveFailures);
      return { provider: p.cfg.name, requests: m.requests, failures: m.failures, p50: m.p50, p95: m.p95, circuitState: p.breaker.state };
    });
    await this.events.write(async ({ manager, append }) => {
      await manager.upsert(LlmProviderEntity, rows, ['name']);
      for (let i = 0; i < buckets.length; i += 200) await manager.upsert(ProviderMetricEntity, buckets.slice(i, i + 200), ['provider', 'bucketStart']);
      const ev: NewEvent = { type: 'router.metrics_flushed', source: SOURCE, data: { providers: summary } };
      append(ev);
    });
  }

  /** Restores persisted state and the chart history of configured providers. */
  private async restore(): Promise<void> {
    const e = this.engine;
    if (e.providers.length === 0) return;
    const names = e.providers.map((p) => p.cfg.name);
    const rows = await this.dataSource.getRepository(LlmProviderEntity).find({ where: { name: In(names) } });
    const since = new Date(Date.now() - e.config.metrics.historyMinutes * 60_000).toISOString();
    const hist = await this.dataSource.getRepository(ProviderMetricEntity).find({ where: { provider: In(names), bucketStart: MoreThanOrEqual(since) }, order: { bucketStart: 'ASC' } });
    for (const rt of e.providers) {
      const row = rows.find((r) => r.name === rt.cfg.name);
      const h = hist.filter((x) => x.provider === rt.cfg.name).map((x) => ({ ...x, costUsd: x.costMicroUsd / MICRO }));
      if (row) {
        this.createdAt.set(row.name, row.createdAt);
        rt.enabledOverride = row.enabledOverride;
        rt.breaker.restore(row.circuitState, row.consecutiveFailures, row.circuitOpenedAt ? Date.parse(row.circuitOpenedAt) : null);
        let samples: number[] = [];
        try {
          samples = JSON.parse(row.latencySamples) as number[];
        } catch {
          samples = [];
        }
        rt.stats.restore(
          {
            requests: row.requests,
            successes: row.successes,
            failures: row.failures,
            latencySumMs: row.latencySumMs,
            tokensIn: row.tokensIn,
            tokensOut: row.tokensOut,
            costUsd: row.costMicroUsd / MICRO,
            costDay: row.costDay,
            costTodayUsd: row.costTodayMicroUsd / MICRO,
            lastErrorAt: row.lastErrorAt,
            lastError: row.lastError,
            lastSuccessAt: row.lastSuccessAt,
            latencySamples: samples,
          },
          h,
        );
      } else if (h.length > 0) {
        rt.stats.restore({}, h);
      }
    }
  }

  /**
   * Start-up check (main.ts banner): probes every enabled local provider once, in parallel (the configured probe
   * timeout), and returns one warning per provider that does not answer, naming the URL, the failure class and the fix.
   * Never throws; the app starts either way (personas that need an LLM then wait for a provider).
   */
  async startupWarnings(): Promise<string[]> {
    if (!this.engineRef) return [];
    const e = this.engine;
    const out: string[] = [];
    await Promise.all(
      e.providers
        .filter((p) => e.isEnabled(p) && p.cfg.tier === 'local')
        .map(async (rt) => {
          const r = await e.probe(rt).catch(() => ({ ok: false, error: 'probe failed', latencyMs: 0 }));
          if (!r.ok) out.push(`${rt.cfg.type === 'ollama' ? 'Ollama' : rt.cfg.type} provider ${rt.cfg.name} does not answer: ${r.error}. ${e.hint(rt) ?? ''}`.trim());
        }),
    );
    if (e.providers.length === 0) out.push(`No LLM provider is configured (${e.config.path ?? 'config/providers.yaml'}): personas cannot work`);
    return out;
  }

  /** Probes every enabled provider in parallel; reachability changes between known states become events. */
  async probeAll(): Promise<void> {
    if (this.stopped || !this.engineRef) return;
    await Promise.all(
      this.engineRef.providers
        // a provider whose previous probe (or trial completion, up to its timeout) is still running is skipped
        .filter((p) => this.engine.isEnabled(p) && !this.probing.has(p.cfg.name))
        .map(async (rt) => {
          this.probing.add(rt.cfg.name);
          try {
            const before = rt.reachable;
            const r = await this.engine.probe(rt);
            const changes: RouterProviderStateChangedData[] = [];
            if (before !== null && before !== r.ok) changes.push({ provider: rt.cfg.name, field: 'reachable', from: before, to: r.ok, reason: r.error ?? 'probe succeeded' });
            if (changes.length > 0 && !this.stopped) this.track(this.persistState(rt, changes));
            if (!this.stopped) await probeTrials(this.engine, rt, r); // a passed probe is a trial: open -> half_open -> closed (events by onCircuit)
          } finally {
            this.probing.delete(rt.cfg.name);
          }
        }),
    );
  }
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
