import type { RouterLatencyPoint, RouterProviderMetrics } from '@app/contracts';

const RESERVOIR = 1024;
const BUCKET_SAMPLES = 512;
/** Outcomes kept for the status error rate (the last N attempts, with their times). */
const OUTCOMES = 256;

/** Percentile (nearest-rank) of an unsorted sample; null for an empty one. `q` in 0..1. */
export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round(sorted[idx] * 100) / 100;
}

interface Bucket {
  start: number;
  requests: number;
  successes: number;
  failures: number;
  latencySumMs: number;
  latencies: number[];
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

/** A closed-or-open time bucket ready to persist in `provider_metrics`. */
export interface BucketSnapshot {
  bucketStart: string;
  requests: number;
  successes: number;
  failures: number;
  latencySumMs: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

/** Totals persisted in `llm_providers` (restored at boot). */
export interface StatsTotals {
  requests: number;
  successes: number;
  failures: number;
  latencySumMs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  costDay: string;
  costTodayUsd: number;
  lastErrorAt: string | null;
  lastError: string | null;
  lastSuccessAt: string | null;
  latencySamples: number[];
}

/**
 * In-memory metrics of one provider. Recording is O(1) and allocation-light (hot path); percentiles are computed on
 * read. Totals and per-bucket aggregates are flushed to the database periodically by the service, never per request.
 * Latencies in ms, costs in USD, `bucketSeconds` wide buckets keyed by their start (epoch ms).
 */
export class ProviderStats {
  requests = 0;
  successes = 0;
  failures = 0;
  latencySumMs = 0;
  tokensIn = 0;
  tokensOut = 0;
  costUsd = 0;
  costDay = '';
  costTodayUsd = 0;
  lastErrorAt: string | null = null;
  lastError: string | null = null;
  lastSuccessAt: string | null = null;
  /** True when something changed since the last flush. */
  dirty = false;
  private readonly ring: number[] = [];
  private ringPos = 0;
  private readonly buckets = new Map<number, Bucket>();
  private readonly outcomeAt = new Float64Array(OUTCOMES);
  private readonly outcomeOk = new Uint8Array(OUTCOMES);
  private outcomePos = 0;
  private outcomeCount = 0;
  /** Buckets changed since the last flush. */
  private readonly dirtyBuckets = new Set<number>();

  constructor(
    private readonly bucketMs: number,
    private readonly historyMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a finished call (success or failure). `latencyMs` of the attempt. */
  record(ok: boolean, latencyMs: number, tokensIn = 0, tokensOut = 0, costUsd = 0, error: string | null = null): void {
    const t = this.now();
    this.requests++;
    this.outcomeAt[this.outcomePos] = t;
    this.outcomeOk[this.outcomePos] = ok ? 1 : 0;
    this.outcomePos = (this.outcomePos + 1) % OUTCOMES;
    if (this.outcomeCount < OUTCOMES) this.outcomeCount++;
    if (ok) {
      this.successes++;
      this.lastSuccessAt = new Date(t).toISOString();
      this.latencySumMs += latencyMs;
      if (this.ring.length < RESERVOIR) this.ring.push(latencyMs);
      else this.ring[this.ringPos++ % RESERVOIR] = latencyMs;
    } else {
      this.failures++;
      this.lastErrorAt = new Date(t).toISOString();
      this.lastError = error;
    }
    this.tokensIn += tokensIn;
    this.tokensOut += tokensOut;
    if (costUsd > 0) {
      this.costUsd += costUsd;
      this.costToday(t);
      this.costTodayUsd += costUsd;
    }
    const start = t - (t % this.bucketMs);
    let b = this.buckets.get(start);
    if (!b) {
      b = { start, requests: 0, successes: 0, failures: 0, latencySumMs: 0, latencies: [], tokensIn: 0, tokensOut: 0, costUsd: 0 };
      this.buckets.set(start, b);
      this.prune(t);
    }
    b.requests++;
    if (ok) {
      b.successes++;
      b.latencySumMs += latencyMs;
      if (b.latencies.length < BUCKET_SAMPLES) b.latencies.push(latencyMs);
      else b.latencies[b.requests % BUCKET_SAMPLES] = latencyMs;
    } else b.failures++;
    b.tokensIn += tokensIn;
    b.tokensOut += tokensOut;
    b.costUsd += costUsd;
    this.dirtyBuckets.add(start);
    this.dirty = true;
  }

  /** Spend of the current UTC day (resets at midnight UTC). */
  costToday(t = this.now()): number {
    const day = new Date(t).toISOString().slice(0, 10);
    if (day !== this.costDay) {
      this.costDay = day;
      this.costTodayUsd = 0;
    }
    return this.costTodayUsd;
  }

  /** The public metrics block. */
  snapshot(consecutiveFailures: number): RouterProviderMetrics {
    return {
      requests: this.requests,
      successes: this.successes,
      failures: this.failures,
      errorRate: this.requests === 0 ? 0 : Math.round((this.failures / this.requests) * 1000) / 1000,
      p50: percentile(this.ring, 0.5),
      p95: percentile(this.ring, 0.95),
      p99: percentile(this.ring, 0.99),
      avgLatencyMs: this.successes === 0 ? null : Math.round((this.latencySumMs / this.successes) * 100) / 100,
      tokensIn: this.tokensIn,
      tokensOut: this.tokensOut,
      costUsd: Math.round(this.costUsd * 1e6) / 1e6,
      costTodayUsd: Math.round(this.costToday() * 1e6) / 1e6,
      consecutiveFailures,
      lastErrorAt: this.lastErrorAt,
      lastError: this.lastError,
      lastSuccessAt: this.lastSuccessAt,
    };
  }

  /**
   * Failed share (0..1) of this process's last attempts (up to 256) within `windowMs` and at or after `sinceMs`
   * (epoch ms; the status passes the time the circuit last closed, so failures from before a recovery do not keep a
   * recovered provider "degraded"). 0 when there were none. Attempts before a restart are not included.
   */
  recentErrorRate(windowMs = 5 * 60_000, sinceMs = 0): number {
    const from = Math.max(this.now() - windowMs, sinceMs);
    let req = 0;
    let fail = 0;
    for (let i = 0; i < this.outcomeCount; i++) {
      if (this.outcomeAt[i] < from) continue;
      req++;
      if (this.outcomeOk[i] === 0) fail++;
    }
    return req === 0 ? 0 : fail / req;
  }

  /** Latency series, oldest first (memory only; history beyond it is read from `provider_metrics`). */
  series(): RouterLatencyPoint[] {
    return [...this.buckets.values()]
      .sort((a, b) => a.start - b.start)
      .map((b) => ({ t: new Date(b.start).toISOString(), requests: b.requests, failures: b.failures, p50: percentile(b.latencies, 0.5), p95: percentile(b.latencies, 0.95) }));
  }

  /** Takes the buckets changed since the last call (for the flush). */
  takeDirtyBuckets(): BucketSnapshot[] {
    const out: BucketSnapshot[] = [];
    for (const start of this.dirtyBuckets) {
      const b = this.buckets.get(start);
      if (!b) continue;
      out.push({
        bucketStart: new Date(b.start).toISOString(),
        requests: b.requests,
        successes: b.successes,
        failures: b.failures,
        latencySumMs: Math.round(b.latencySumMs),
        p50: percentile(b.latencies, 0.5),
        p95: percentile(b.latencies, 0.95),
        p99: percentile(b.latencies, 0.99),
        tokensIn: b.tokensIn,
        tokensOut: b.tokensOut,
        costUsd: b.costUsd,
      });
    }
    this.dirtyBuckets.clear();
    return out;
  }

  /** Totals to persist. */
  totals(): StatsTotals {
    this.costToday();
    return {
      requests: this.requests,
      successes: this.successes,
      failures: this.failures,
      latencySumMs: Math.round(this.latencySumMs),
      tokensIn: this.tokensIn,
      tokensOut: this.tokensOut,
      costUsd: this.costUsd,
      costDay: this.costDay,
      costTodayUsd: this.costTodayUsd,
      lastErrorAt: this.lastErrorAt,
      lastError: this.lastError,
      lastSuccessAt: this.lastSuccessAt,
      latencySamples: this.ring.slice(-256),
    };
  }

  /** Restores persisted totals (boot) and history buckets (for the chart). */
  restore(t: Partial<StatsTotals>, history: BucketSnapshot[] = []): void {
    this.requests = t.requests ?? 0;
    this.successes = t.successes ?? 0;
    this.failures = t.failures ?? 0;
    this.latencySumMs = t.latencySumMs ?? 0;
    this.tokensIn = t.tokensIn ?? 0;
    this.tokensOut = t.tokensOut ?? 0;
    this.costUsd = t.costUsd ?? 0;
    this.costDay = t.costDay ?? '';
    this.costTodayUsd = t.costTodayUsd ?? 0;
    this.lastErrorAt = t.lastErrorAt ?? null;
    this.lastError = t.lastError ?? null;
    this.lastSuccessAt = t.lastSuccessAt ?? null;
    this.ring.length = 0;
    this.ring.push(...(t.latencySamples ?? []).slice(-RESERVOIR));
    for (const h of history) {
      const start = Date.parse(h.bucketStart);
      if (!Number.isFinite(start) || this.buckets.has(start)) continue;
      const lat: number[] = [];
      if (h.p50 !== null) lat.push(h.p50);
      if (h.p95 !== null) lat.push(h.p95);
      this.buckets.set(start, {
        start,
        requests: h.requests,
        successes: h.successes,
        failures: h.failures,
        latencySumMs: h.latencySumMs,
        latencies: lat,
        tokensIn: h.tokensIn,
        tokensOut: h.tokensOut,
        costUsd: h.costUsd,
      });
    }
    this.prune(this.now());
  }

  private prune(t: number): void {
    const min = t - this.historyMs;
    for (const k of this.buckets.keys()) if (k < min) this.buckets.delete(k);
  }
}
