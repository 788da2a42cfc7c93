import type { RouterControlAction, RouterProviderDto } from '@app/contracts';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatClock } from '../../../lib/time';
import { formatMs, formatRate, formatUsd } from '../format';

type ProviderCardProps = {
  provider: RouterProviderDto;
  preferred: boolean;
  canOperate: boolean;
  /** The action in flight for this provider, if any (its button shows a spinner). */
  pendingAction: RouterControlAction | null;
  onAction: (action: RouterControlAction) => void;
};

/**
 * One provider: status with the server's one-sentence reason (the card states nothing the status does not), circuit,
 * the fix for its latest failure, metrics, last error and the operator controls.
 */
export function ProviderCard({ provider: p, preferred, canOperate, pendingAction, onAction }: ProviderCardProps) {
  const m = p.metrics;
  const button = (action: RouterControlAction, label: string, disabled = false) => (
    <button type="button" className="btn btn--small" disabled={disabled || pendingAction !== null} onClick={() => onAction(action)} data-testid={`router-${action}-${p.name}`}>
      {pendingAction === action ? '…' : label}
    </button>
  );
  return (
    <article className={`router-provider${preferred ? ' router-provider--preferred' : ''}`} data-testid={`router-provider-${p.name}`}>
      <div className="router-provider__head">
        <span className="router-provider__name">{p.name}</span>
        <StatusBadge status={p.status} testId={`router-status-${p.name}`} />
        <span className="muted small">circuit</span>
        <StatusBadge status={p.circuitState} testId={`router-circuit-${p.name}`} />
        {preferred && <span className="tag">preferred</span>}
      </div>
      <div className="muted small">
        {p.type} · {p.tier} · priority {p.priority} · {p.defaultModel ?? 'no default model'}
        {p.endpoint ? (
          <>
            {' '}
            · <span className="mono">{p.endpoint}</span>
          </>
        ) : null}
      </div>
      <p className={`router-provider__reason router-provider__reason--${p.status}`} data-testid={`router-reason-${p.name}`}>
        {p.statusReason}
        {p.circuitState === 'open' && p.circuitOpenedAt ? ` (open since ${formatClock(p.circuitOpenedAt)})` : ''}
        {p.lastProbeAt ? <span className="muted small"> · last probe {formatClock(p.lastProbeAt)}{p.reachable === false ? ' failed' : ''}</span> : null}
      </p>
      {p.disabledReason && p.disabledReason !== p.statusReason && <p className="warning small">{p.disabledReason}</p>}
      {p.hint && (
        <p className="router-provider__hint small" data-testid={`router-hint-${p.name}`}>
          To fix: {p.hint}
        </p>
      )}
      <dl className="router-provider__metrics">
        <div>
          <dt>requests</dt>
          <dd>{m.requests}</dd>
        </div>
        <div>
          <dt>errors (all time)</dt>
          <dd>
            {m.failures} ({formatRate(m.errorRate)})
          </dd>
        </div>
        <div>
          <dt>consecutive fails</dt>
          <dd>{m.consecutiveFailures}</dd>
        </div>
        <div>
          <dt>p50</dt>
          <dd>{formatMs(m.p50)}</dd>
        </div>
        <div>
          <dt>p95</dt>
          <dd>{formatMs(m.p95)}</dd>
        </div>
        <div>
          <dt>p99</dt>
          <dd>{formatMs(m.p99)}</dd>
        </div>
        <div>
          <dt>tokens in/out</dt>
          <dd>
            {m.tokensIn}/{m.tokensOut}
          </dd>
        </div>
        {p.tier === 'cloud' && (
          <div>
            <dt>cost (today)</dt>
            <dd>
              {formatUsd(m.costUsd)} ({formatUsd(m.costTodayUsd)})
            </dd>
          </div>
        )}
      </dl>
      {m.lastError && (
        <p className="small muted">
          Last error{m.lastErrorAt ? ` at ${formatClock(m.lastErrorAt)}` : ''}: <span className="mono">{m.lastError}</span>
        </p>
      )}
      {canOperate && (
        <div className="btn-row">
          {p.enabled ? button('disable', 'Disable') : button('enable', 'Enable', p.disabledReason?.startsWith('environment variable') ?? false)}
          {button('reset_circuit', 'Reset circuit', p.circuitState === 'closed' && m.consecutiveFailures === 0)}
          {button('probe', 'Probe now')}
        </div>
      )}
    </article>
  );
}
