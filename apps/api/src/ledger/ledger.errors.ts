import { AppError } from '../common/app-error';

/** Stable error codes of the ledger module. */
export type LedgerErrorCode =
  | 'ledger/invalid_amount'
  | 'ledger/amount_too_large'
  | 'ledger/account_not_found'
  | 'ledger/not_an_agent'
  | 'ledger/insufficient_funds'
  | 'ledger/transfer_not_found'
  | 'ledger/not_pending'
  | 'ledger/already_resolved'
  | 'ledger/post_exceeds_pending'
  | 'ledger/same_account'
  | 'ledger/idempotency_conflict'
  | 'ledger/invalid_bolt11'
  | 'ledger/wrong_network'
  | 'ledger/invoice_expired'
  | 'ledger/amount_required'
  | 'ledger/amount_mismatch'
  | 'ledger/already_paid'
  | 'ledger/invoice_not_found'
  | 'ledger/payment_not_found'
  | 'ledger/invalid_preimage'
  | 'ledger/preimage_mismatch'
  | 'ledger/invoice_not_open'
  | 'ledger/not_mock_backend'
  | 'ledger/agent_required'
  | 'ledger/backend_error'
  | 'ledger/bad_cursor'
  | 'ledger/bad_ref'
  | 'ledger/bad_window';

/** Builds an AppError with a ledger code. */
export function ledgerError(code: LedgerErrorCode, message: string, status: number, details?: unknown): AppError {
  return new AppError(code, message, status, details);
}
