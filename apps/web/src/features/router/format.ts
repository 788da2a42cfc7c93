import type { RouterMetricsDto, RouterProviderDto, RouterStatusDto } from '@app/contracts';

/** `12.3 ms`, `1.20 s`, or an em dash for null. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

/** `3.4 %` from a 0..1 rate. */
export const formatRate = (r: number) => `${(r * 100).toFixed(1)} %`;

/** `$0.0012` (estimates are tiny: 4 significant decimals). */
export const formatUsd = (usd: number) => (usd === 0 ? '$0' : usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`);

/** Totals across providers; the average latency is weighted by successful requests (the prototype averaged averages). */
export function routerTotals(providers: RouterProviderDto[]) {
  let requests = 0;
  let successes = 0;
  let failures = 0;
  let latencyWeighted = 0;
  for (const p of providers) {
    requests += p.metrics.requests;
    successes += p.metrics.successes;
    failures += p.metrics.failures;
    if (p.metrics.avgLatencyMs !== null) latencyWeighted += p.metrics.avgLatencyMs * p.metrics.successes;
  }
  return { requests, successes, failures, avgLatencyMs: successes > 0 ? latencyWeighted / successes : null };
}

/**
 * Overall router health, the one function behind the header badge and the Router page banner (so they never
 * disagree). It only restates the server's per-provider `status` and `statusReason`:
 * ok = the provider requests go to first is healthy; warn = it is not healthy, or a lower-priority provider is serving;
 * down = no provider can take a request.
 */
export function routerHealth(status: RouterStatusDto | undefined): { level: 'ok' | 'warn' | 'down' | 'unknown'; label: string; title: string } {
  if (!status) return { level: 'unknown', label: 'LLM …', title: 'Loading router status' };
  if (status.totalProviders === 0) return { level: 'down', label: 'LLM: none configured', title: 'No providers configured. Check config/providers.yaml' };
  const preferred = status.providers.find((p) => p.name === status.preferredProvider);
  if (!preferred) {
    const why = status.providers.find((p) => p.hint)?.hint ?? status.providers[0]?.statusReason ?? '';
    return { level: 'down', label: 'LLM: no provider', title: `No provider can take a request now${why ? `: ${why}` : ''}` };
  }
  const first = status.providers.find((p) => p.enabled && p.disabledReason === null);
  if (preferred.status !== 'healthy') {
    return { level: 'warn', label: `LLM: ${preferred.name} ${preferred.status}`, title: `${preferred.name} is ${preferred.status}: ${preferred.statusReason}` };
  }
  if (first && first.name !== preferred.name) {
    return { level: 'warn', label: `LLM: ${preferred.name} (fallback)`, title: `Serving from ${preferred.name}; ${first.name} is ${first.status}: ${first.statusReason}` };
  }
  return { level: 'ok', label: `LLM: ${preferred.name}`, title: `${preferred.name} healthy (${preferred.statusReason}), p50 ${formatMs(preferred.metrics.p50)}` };
}

/** One chart row per bucket: `t` (epoch ms), and per provider `<name>` p50, `<name>:p95`, `<name>:req`, `<name>:err`. */
export type SeriesRow = { t: number; [key: string]: number | null };

/**
 * Chart rows on a real time axis, one per `bucketSeconds` bucket from the first bucket with traffic to the last, with
 * every empty bucket present (latency null, counts 0) so lines break there instead of being drawn across (issue 12:
 * gaps are gaps). A bucket whose requests all failed has a null latency too (no successful call to time).
 */
export function latencyRows(metrics: RouterMetricsDto | undefined): SeriesRow[] {
  if (!metrics) return [];
  const bucketMs = metrics.bucketSeconds * 1000;
  const points = metrics.providers.flatMap((p) => p.series.map((pt) => ({ name: p.name, at: Date.parse(pt.t), pt })));
  if (points.length === 0 || bucketMs <= 0) return [];
  const first = Math.min(...points.map((x) => x.at));
  const last = Math.max(...points.map((x) => x.at));
  const names = [...new Set(points.map((x) => x.name))];
  const rows = new Map<number, SeriesRow>();
  // cap the filler so a long quiet period cannot build a huge array (history is bounded server-side anyway)
  const step = Math.max(bucketMs, Math.ceil((last - first) / 2000 / bucketMs) * bucketMs);
  for (let t = first; t <= last; t += step) {
    const row: SeriesRow = { t };
    for (const n of names) {
      row[n] = null;
      row[`${n}:p95`] = null;
      row[`${n}:req`] = 0;
      row[`${n}:err`] = 0;
    }
    rows.set(t, row);
  }
  for (const { name, at, pt } of points) {
    const row = rows.get(at) ?? { t: at };
    row[name] = pt.p50;
    row[`${name}:p95`] = pt.p95;
    row[`${name}:req`] = pt.requests;
    row[`${name}:err`] = pt.failures;
    rows.set(at, row);
  }
  return [...rows.values()].sort((a, b) => a.t - b.t);
}

/** `2 retries after the first attempt (timeout 30 s) on timeout, connection_refused, ...; backoff 250 ms to 4.00 s`. */
export function describeRetryPolicy(p: RouterStatusDto['retryPolicy']): string {
  const retries = p.maxRetries === 0 ? 'no retries' : `${p.maxRetries} ${p.maxRetries === 1 ? 'retry' : 'retries'} after the first attempt`;
  return `${retries}, ${formatMs(p.timeoutMs)} per attempt; retried: ${p.retryOn.join(', ')}; backoff ${formatMs(p.retryBaseDelayMs)} doubling up to ${formatMs(p.retryMaxDelayMs)} with jitter; a 429 asking to wait over ${formatMs(p.maxRetryAfterMs)} moves on`;
}
