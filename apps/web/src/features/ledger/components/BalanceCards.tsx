import '../ledger.css';
import type { LedgerBalancesDto } from '@app/contracts';
import { balanceCards, formatSats } from '../format';

type BalanceCardsProps = { balances: LedgerBalancesDto | undefined; loading?: boolean };

/** The node's balance as four cards (available, pending in, pending out, fees), a "pending" badge on unsettled money. */
export function BalanceCards({ balances, loading = false }: BalanceCardsProps) {
  if (!balances) return <p className="muted">{loading ? 'Loading balances…' : 'No balances.'}</p>;
  return (
    <div className="ledger-cards" data-testid="ledger-cards">
      {balanceCards(balances).map((c) => (
        <div key={c.key} className="ledger-card" data-testid={`ledger-card-${c.key}`} data-msat={c.msat}>
          <div className="ledger-card__head">
            <span className="ledger-card__label">{c.label}</span>
            {c.pending && (
              <span className="badge badge--pending" data-testid={`ledger-card-${c.key}-pending`}>
                pending
              </span>
            )}
          </div>
          <div className="ledger-card__value" data-testid={`ledger-card-${c.key}-value`}>
            {formatSats(c.msat)}
          </div>
          <div className="muted small">{c.hint}</div>
        </div>
      ))}
    </div>
  );
}
