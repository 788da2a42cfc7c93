import '../ledger.css';
import { ErrorText } from '../../../components/ui/ErrorText';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatClock } from '../../../lib/time';
import { directionLabel, formatSats } from '../format';
import { useLedgerLiveUpdates, useRecentLedger } from '../hooks/useLedger';

type RecentPaymentsProps = { limit?: number };

/**
 * The phone view's ledger section (operators and admins only: render it for them alone, it subscribes to the
 * privileged `ledger` channel): the latest invoices and payments with their status, updated live.
 */
export function RecentPayments({ limit = 8 }: RecentPaymentsProps) {
  useLedgerLiveUpdates();
  const recent = useRecentLedger(limit);
  const items = recent.data?.items ?? [];
  return (
    <section aria-label="Recent payments" data-testid="mobile-ledger">
      <h2 className="mobile__h">Payments</h2>
      <ErrorText error={recent.error} />
      {items.length === 0 && <p className="muted">{recent.isPending ? 'Loading…' : 'No payments yet.'}</p>}
      <ul className="ledger-recent">
        {items.map((t) => (
          <li key={t.id} className="ledger-recent__item" data-testid="mobile-ledger-item" data-hash={t.paymentHash} data-status={t.status}>
            <span className="nowrap">{directionLabel(t)}</span>
            <strong className="ledger-num">{formatSats(t.amountMsat)}</strong>
            <StatusBadge status={t.status} />
            <span className="ledger-recent__memo muted">{t.memo || (t.agentId ?? t.accountId)}</span>
            <span className="mono small muted">{formatClock(t.settledAt ?? t.createdAt)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
