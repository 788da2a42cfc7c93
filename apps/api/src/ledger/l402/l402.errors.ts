import { AppError } from '../../common/app-error';

/**
 * Stable error codes of L402 (issue 8). 402 = pay first (`payment_required`, `invoice_unpaid`); 401 = the presented
 * token is refused and nothing was written. Messages never contain the macaroon, the preimage or the root key.
 */
export type L402ErrorCode =
  | 'l402/payment_required'
  | 'l402/invoice_unpaid'
  | 'l402/malformed_authorization'
  | 'l402/invalid_macaroon'
  | 'l402/invalid_signature'
  | 'l402/token_expired'
  | 'l402/wrong_service'
  | 'l402/price_mismatch'
  | 'l402/caveat_failed'
  | 'l402/invalid_preimage'
  | 'l402/preimage_mismatch'
  | 'l402/unknown_payment'
  | 'l402/invoice_not_payable'
  | 'l402/token_used'
  | 'l402/not_priced'
  | 'l402/rate_limited'
  | 'l402/direct_assign_forbidden';

/** Builds an AppError with an L402 code. */
export function l402Error(code: L402ErrorCode, message: string, status: 401 | 402 | 429, details?: unknown): AppError {
  return new AppError(code, message, status, details);
}
