import type { RouterStatusDto } from '@app/contracts';
import { describeRetryPolicy, formatMs, formatUsd, routerHealth, routerTotals } from '../format';

type RouterSummaryProps = { status: RouterStatusDto };

/** Stat cards, the health banner (same `routerHealth` as the header badge) and the retry policy as configured. */
export function RouterSummary({ status }: RouterSummaryProps) {
  const t = routerTotals(status.providers);
  const h = routerHealth(status);
  const stat = (label: string, value: string | number, testId: string) => (
    <div className="router-stat">
      <div className="muted small">{label}</div>
      <div className="router-stat__value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
  return (
    <>
      <div className="router-stats">
        {stat(
          'Providers',
          `${status.healthyProviders}/${status.totalProviders} healthy${status.degradedProviders ? ` · ${status.degradedProviders} degraded` : ''}${status.unhealthyProviders ? ` · ${status.unhealthyProviders} unhealthy` : ''}`,
          'router-stat-providers',
        )}
        {stat('Requests', t.requests, 'router-stat-requests')}
        {stat('Successful', t.successes, 'router-stat-successes')}
        {stat('Failed', t.failures, 'router-stat-failures')}
        {stat('Avg latency', formatMs(t.avgLatencyMs), 'router-stat-latency')}
        {status.budget.dailyUsd !== null && stat('Cloud spend today', `${formatUsd(status.budget.spentTodayUsd)} / ${formatUsd(status.budget.dailyUsd)}`, 'router-stat-budget')}
      </div>
      <p className={`router-banner router-banner--${h.level}`} data-testid="router-banner" data-level={h.level}>
        {h.level === 'down' ? <strong>{h.label}</strong> : <>Serving from <strong>{status.preferredProvider}</strong></>}: {h.title}
        {!status.allowCloudFallback && <span className="muted small"> · cloud fallback off (local only)</span>}
      </p>
      <p className="muted small" data-testid="router-retry-policy">
        Retry policy: {describeRetryPolicy(status.retryPolicy)}. Circuit: opens after {status.retryPolicy.circuitBreaker.failureThreshold} consecutive
        failures, half-opens after {formatMs(status.retryPolicy.circuitBreaker.recoveryTimeoutMs)} or a passed health probe, closes after{' '}
        {status.retryPolicy.circuitBreaker.halfOpenMaxCalls} passed trial(s) (probes count).
        {status.retryPolicy.providers.some((p) => p.timeoutMs !== status.retryPolicy.timeoutMs || p.maxRetries !== status.retryPolicy.maxRetries) &&
          ` Overrides: ${status.retryPolicy.providers
            .filter((p) => p.timeoutMs !== status.retryPolicy.timeoutMs || p.maxRetries !== status.retryPolicy.maxRetries)
            .map((p) => `${p.name} ${formatMs(p.timeoutMs)} / ${p.maxRetries} retries`)
            .join(', ')}.`}
      </p>
      {status.budget.exhausted && <p className="warning">Daily cloud budget spent: cloud providers are skipped until midnight UTC.</p>}
    </>
  );
}
