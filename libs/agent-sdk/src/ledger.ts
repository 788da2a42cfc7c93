import type { AgentBalanceDto, LedgerTransactionDto } from '@app/contracts';
import { RestClient } from './rest';

/** Options of {@link withdraw} (amounts in msat, as the API takes them). */
export interface WithdrawOptions {
  /** Required for an amountless invoice (integer msat); must equal the invoice's amount otherwise. */
  amountMsat?: number;
  /** Fee limit in msat (server default: the larger of LEDGER_DEFAULT_MAX_FEE_MSAT and 1 % of the amount). */
  maxFeeMsat?: number;
  /** Makes a retried call return the first payment instead of paying again (1-128 of `A-Za-z0-9_.:-`). */
  idempotencyKey?: string;
}

/** Whole sats in an msat amount, rounded down (what a withdrawal of whole sats can take). */
export function msatToSats(msat: number): number {
  return Math.floor(msat / 1000);
}

/**
 * `GET /api/ledger/balances/me`: the calling agent's own balance, as the API returns it, all amounts in **msat**:
 * `account` has the maintained totals (`balanceMsat` = credits posted - debits posted, `availableMsat` = what can
 * be withdrawn now: balance minus held debits, `creditsPendingMsat` = task payouts held for it until the task
 * completes) and `lightning` ADR-018's formula over its invoices and payments (incoming/outgoing settled, fees,
 * pending, net, available). Use {@link msatToSats} for sats.
 * @throws AgentSdkError 403 `ledger/not_an_agent` (not an agent key), 404 `ledger/account_not_found` (the agent
 *   has never been credited: no account yet), 401 for a bad or revoked key; `sdk/network_error` / `sdk/timeout`.
 */
export function balance(rest: RestClient): Promise<AgentBalanceDto> {
  return rest.get<AgentBalanceDto>('/api/ledger/balances/me');
}

/**
 * `POST /api/ledger/payments`: withdraws from the calling agent's own account by paying `bolt11` (the invoice's
 * amount, or `opts.amountMsat` for an amountless one, plus the routing fee; amount + fee limit is held until the
 * node answers). Resolves with the outgoing transaction as the API answers it (amounts in msat): `status` is
 * `settled` (paid, `preimage` = proof of payment, `feeMsat` = actual fee), `failed` (`failureReason`; nothing was
 * taken), or `pending` when the node has not finished within the server's wait (the funds stay held; look it up
 * again later: the payment is tracked to its end on the server). A failed payment resolves, it does not throw.
 * @throws AgentSdkError 400 `ledger/invalid_bolt11`, `ledger/wrong_network`, `ledger/invoice_expired`,
 *   `ledger/amount_required`, `ledger/amount_mismatch`, `ledger/invalid_amount`, `ledger/amount_too_large`;
 *   409 `ledger/insufficient_funds` (available < amount + fee limit), `ledger/already_paid`,
 *   `ledger/idempotency_conflict`; 404 `ledger/account_not_found` (never credited); 503 `ledger/backend_error`;
 *   `sdk/network_error` / `sdk/timeout`.
 */
export function withdraw(rest: RestClient, bolt11: string, opts: WithdrawOptions = {}): Promise<LedgerTransactionDto> {
  return rest.post<LedgerTransactionDto>('/api/ledger/payments', { bolt11, ...opts });
}
