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

/** Overall health for the header badge: ok (preferred provider healthy), warn (degraded/failing over), down (none usable). */
export function routerHealth(status: RouterStatusDto | undefined): { level: 'ok' | 'warn' | 'down' | 'unknown'; label: string; title: string } {
  if (!status) return { level: 'unknown', label: 'LLM …', title: 'Loading router status' };
  if (status.totalProviders === 0) return { level: 'down', label: 'LLM: none configured', title: 'No providers configured. Check config/providers.yaml' };
  const preferred = status.providers.find((p) => p.name === status.preferredProvider);
  if (!preferred) return { level: 'down', label: 'LLM: no provider', title: 'No healthy provider available: see the Router page' };
  const first = status.providers.find((p) => p.enabled && p.disabledReason === null);
  if (preferred.status !== 'healthy' || (first && first.name !== preferred.name)) {
    return { level: 'warn', label: `LLM: ${preferred.name}`, title: `Serving from ${preferred.name} (${preferred.status}); ${status.unhealthyProviders} unhealthy, ${status.degradedProviders} degraded` };
  }
  return { level: 'ok', label: `LLM: ${preferred.name}`, title: `${preferred.name} healthy, p50 ${formatMs(preferred.metrics.p50)}` };
}

/** One row per time bucket with `<provider>` = p50 and `<provider>:p95` = p95 (recharts data). */
export function latencyRows(metrics: RouterMetricsDto | undefined): { t: string; [key: string]: number | string | null }[] {
  if (!metrics) return [];
  const rows = new Map<string, { t: string; [key: string]: number | string | null }>();
  for (const p of metrics.providers) {
    for (const pt of p.series) {
      const row = rows.get(pt.t) ?? { t: pt.t };
      row[p.name] = pt.p50;
      row[`${p.name}:p95`] = pt.p95;
      rows.set(pt.t, row);
    }
  }
  return [...rows.values()].sort((a, b) => a.t.localeCompare(b.t));
}
