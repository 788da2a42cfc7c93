import type { RouterStatusDto } from '@app/contracts';
import { formatMs, formatUsd, routerTotals } from '../format';

type RouterSummaryProps = { status: RouterStatusDto };

/** Stat cards (providers, requests, successes, failures, weighted average latency) and the preferred-provider banner. */
export function RouterSummary({ status }: RouterSummaryProps) {
  const t = routerTotals(status.providers);
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
        {stat('Providers', `${status.healthyProviders}/${status.totalProviders} healthy`, 'router-stat-providers')}
        {stat('Requests', t.requests, 'router-stat-requests')}
        {stat('Successful', t.successes, 'router-stat-successes')}
        {stat('Failed', t.failures, 'router-stat-failures')}
        {stat('Avg latency', formatMs(t.avgLatencyMs), 'router-stat-latency')}
        {status.budget.dailyUsd !== null && stat('Cloud spend today', `${formatUsd(status.budget.spentTodayUsd)} / ${formatUsd(status.budget.dailyUsd)}`, 'router-stat-budget')}
      </div>
      {status.totalProviders === 0 ? (
        <p className="router-banner router-banner--down" data-testid="router-banner">
          No providers configured. Check config/providers.yaml (LLM_PROVIDERS_PATH).
        </p>
      ) : status.preferredProvider ? (
        <p className="router-banner router-banner--ok" data-testid="router-banner">
          Preferred provider: <strong>{status.preferredProvider}</strong> ACTIVE
          {!status.allowCloudFallback && <span className="muted small"> · cloud fallback off (local only)</span>}
        </p>
      ) : (
        <p className="router-banner router-banner--down" data-testid="router-banner">
          No healthy providers available
          {!status.allowCloudFallback && <span className="small"> · cloud fallback is off (cascade.allow_cloud_fallback)</span>}
        </p>
      )}
      {status.budget.exhausted && <p className="warning">Daily cloud budget spent: cloud providers are skipped until midnight UTC.</p>}
    </>
  );
}
