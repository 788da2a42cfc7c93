import { useState } from 'react';
import type { RouterControlAction } from '@app/contracts';
import { ErrorText } from '../components/ui/ErrorText';
import { useCanOperate } from '../features/auth/hooks/useAuth';
import { LatencyChart } from '../features/router/components/LatencyChart';
import { ProviderCard } from '../features/router/components/ProviderCard';
import { RouterSummary } from '../features/router/components/RouterSummary';
import { useProviderControl, useRouterLiveUpdates, useRouterMetrics, useRouterStatus } from '../features/router/hooks/useRouter';
import '../features/router/router.css';

/** Router: providers with status, circuit state and metrics, latency over time, operator controls; live via `router`. */
export function RouterPage() {
  useRouterLiveUpdates();
  const status = useRouterStatus();
  const metrics = useRouterMetrics();
  const canOperate = useCanOperate();
  const control = useProviderControl();
  const [pending, setPending] = useState<{ name: string; action: RouterControlAction } | null>(null);
  const [lastMessage, setLastMessage] = useState<string | null>(null);

  const handleAction = (name: string, action: RouterControlAction) => {
    setPending({ name, action });
    control.mutate(
      { name, action },
      {
        onSuccess: (r) => setLastMessage(r.message),
        onSettled: () => setPending(null),
      },
    );
  };

  return (
    <div className="page-stack">
      <section className="panel">
        <div className="panel__title-row">
          <h2>LLM router</h2>
          <span className="muted small">{status.isFetching ? 'refreshing…' : status.data ? `head seq ${status.data.headSeq}` : ''}</span>
        </div>
        <ErrorText error={status.error} />
        {status.isPending && <p className="muted">Loading…</p>}
        {status.data && <RouterSummary status={status.data} />}
      </section>
      <section className="panel">
        <div className="panel__title-row">
          <h2>Latency over time</h2>
          <span className="muted small">{metrics.data ? `${metrics.data.bucketSeconds}s buckets · p50 solid, p95 dashed` : ''}</span>
        </div>
        <ErrorText error={metrics.error} />
        <LatencyChart metrics={metrics.data} />
      </section>
      <section className="panel">
        <div className="panel__title-row">
          <h2>Providers</h2>
          {lastMessage && (
            <span className="muted small" role="status" data-testid="router-control-message">
              {lastMessage}
            </span>
          )}
        </div>
        <ErrorText error={control.error} testId="router-control-error" />
        <div className="router-providers">
          {status.data?.providers.map((p) => (
            <ProviderCard
              key={p.name}
              provider={p}
              preferred={status.data.preferredProvider === p.name}
              canOperate={canOperate}
              pendingAction={pending?.name === p.name ? pending.action : null}
              onAction={(action) => handleAction(p.name, action)}
            />
          ))}
        </div>
      </section>
    </div>
  );
}
