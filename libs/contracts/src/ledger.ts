/**
 * Wire types of the Lightning ledger (`/api/ledger/*`, channel `ledger`, privileged: never shown to viewers or
 * agents' channel subscriptions). Every amount is an integer number of **msat** (1 sat = 1000 msat), a JSON number
 * that is a safe integer (<= 2^53 - 1 msat, about 90,071 BTC; see ADR 0010). Times are ISO-8601 UTC strings.
 */

import type { EventSpecs } from './event-spec';

/** Ledger event types (all on channel `ledger`). */
export const LEDGER_EVENT_TYPES = [
  'invoice.created',
  'invoice.settled',
  'invoice.expired',
  'payment.in_flight',
  'payment.sent',
  'payment.failed',
  'hold.created',
  'hold.posted',
  'hold.voided',
  'ledger.reconciliation_drift',
] as const;
export type LedgerEventType = (typeof LEDGER_EVENT_TYPES)[number];

/** Payload of each ledger event. Never a preimage of an unsettled invoice, never a macaroon. */
export interface LedgerEventDataMap {
  'invoice.created': { paymentHash: string; amountMsat: number; memo: string; expiresAt: string; accountId: string; transactionId: string };
  'invoice.settled': { paymentHash: string; amountMsat: number; accountId: string; transactionId: string; settledAt: string };
  'invoice.expired': { paymentHash: string; amountMsat: number; accountId: string; transactionId: string };
  'payment.in_flight': { paymentHash: string; amountMsat: number; maxFeeMsat: number; accountId: string; transactionId: string; destination: string | null };
  'payment.sent': { paymentHash: string; amountMsat: number; feeMsat: number; accountId: string; transactionId: string; internal: boolean };
  'payment.failed': { paymentHash: string; amountMsat: number; accountId: string; transactionId: string; reason: string };
  'hold.created': { transferId: string; amountMsat: number; debitAccountId: string; creditAccountId: string; purpose: string };
  'hold.posted': { transferId: string; pendingId: string; amountMsat: number; debitAccountId: string; creditAccountId: string; purpose: string };
  'hold.voided': { transferId: string; pendingId: string; amountMsat: number; debitAccountId: string; creditAccountId: string; purpose: string; reason: string };
  'ledger.reconciliation_drift': { differences: number; summary: string };
}

/** Channel routing of the ledger's event types: all on the privileged `ledger` channel, none on the phone digest. */
export const LEDGER_EVENT_SPECS = Object.fromEntries(LEDGER_EVENT_TYPES.map((t) => [t, { channel: 'ledger' }])) as {
  readonly [K in LedgerEventType]: { readonly channel: 'ledger' };
} satisfies EventSpecs<LedgerEventDataMap>;

/** One msat amount limit: a JSON-safe integer (ADR 0010). 21,000,000 BTC (2.1e18 msat) is far above it. */
export const MAX_MSAT = Number.MAX_SAFE_INTEGER;
/** All bitcoin that will ever exist, in msat (2.1e18, not exactly representable as a double: compare with care). */
export const TOTAL_BTC_SUPPLY_MSAT = 21_000_000 * 100_000_000 * 1000;

export type LedgerAccountKind = 'node' | 'treasury' | 'fees' | 'agent';
export type LedgerTransferKind = 'single' | 'pending' | 'post' | 'void' | 'expire';
export type LedgerTransactionType = 'incoming' | 'outgoing';
export type LedgerTransactionStatus = 'pending' | 'settled' | 'failed' | 'expired';
export const LEDGER_TRANSACTION_TYPES: readonly LedgerTransactionType[] = ['incoming', 'outgoing'];
export const LEDGER_TRANSACTION_STATUSES: readonly LedgerTransactionStatus[] = ['pending', 'settled', 'failed', 'expired'];

/** An account with its maintained totals (TigerBeetle model). `balanceMsat` = credits posted - debits posted. */
export interface LedgerAccountDto {
  id: string;
  kind: LedgerAccountKind;
  agentId: string | null;
  /** Debits (posted + pending) may never exceed credits posted. */
  noNegative: boolean;
  debitsPostedMsat: number;
  creditsPostedMsat: number;
  debitsPendingMsat: number;
  creditsPendingMsat: number;
  balanceMsat: number;
  /** What can be spent now: credits posted - debits posted - debits pending. */
  availableMsat: number;
  createdAt: string;
  updatedAt: string;
}

/** An immutable transfer. `pendingId` links a post/void/expire to the pending transfer it resolves. */
export interface LedgerTransferDto {
  id: string;
  kind: LedgerTransferKind;
  debitAccountId: string;
  creditAccountId: string;
  amountMsat: number;
  pendingId: string | null;
  timeoutAt: string | null;
  purpose: string;
  ref: string | null;
  idempotencyKey: string | null;
  createdAt: string;
}

/** ADR-018's transaction view: one Lightning invoice (incoming) or payment (outgoing). */
export interface LedgerTransactionDto {
  id: string;
  type: LedgerTransactionType;
  status: LedgerTransactionStatus;
  paymentHash: string;
  bolt11: string;
  /** Only once settled (incoming: revealed by the payer; outgoing: proof of payment). */
  preimage: string | null;
  amountMsat: number;
  feeMsat: number;
  maxFeeMsat: number;
  memo: string;
  accountId: string;
  taskId: string | null;
  agentId: string | null;
  expiresAt: string | null;
  failureReason: string | null;
  idempotencyKey: string | null;
  createdAt: string;
  settledAt: string | null;
}

/** ADR-018's balance formula, in msat. */
export interface LedgerBalanceDto {
  accountId: string;
  incomingSettledMsat: number;
  outgoingSettledMsat: number;
  feesMsat: number;
  pendingIncomingMsat: number;
  pendingOutgoingMsat: number;
  /** incoming settled - outgoing settled - fees. */
  netMsat: number;
  /** net - pending outgoing. */
  availableMsat: number;
}

/**
 * `GET /api/ledger/balances/me` (agent keys): the calling agent's account with its maintained totals and ADR-018's
 * formula over its transactions, all in msat. What it can withdraw now is `account.availableMsat`.
 */
export interface AgentBalanceDto {
  account: LedgerAccountDto;
  lightning: LedgerBalanceDto;
}

export interface LedgerBalancesDto {
  node: LedgerBalanceDto;
  treasury: LedgerAccountDto;
  fees: LedgerAccountDto;
  agents: LedgerAccountDto[];
}

export interface CreateInvoiceRequest {
  amountMsat: number;
  memo?: string;
  /** Seconds until the invoice expires (60..604800, default 3600). */
  expirySeconds?: number;
  /** Credit an agent's account instead of the treasury. */
  agentId?: string;
  taskId?: string;
  idempotencyKey?: string;
}

export interface PayInvoiceRequest {
  bolt11: string;
  /** Required for an amountless invoice; must equal the invoice amount otherwise. */
  amountMsat?: number;
  /** Fee limit (default LEDGER_DEFAULT_MAX_FEE_MSAT or 1 % of the amount, whichever is larger). */
  maxFeeMsat?: number;
  /** Pay from this agent's account (operators); agents always pay from their own. */
  agentId?: string;
  idempotencyKey?: string;
}

export interface DecodedInvoiceDto {
  paymentHash: string;
  network: string;
  amountMsat: number | null;
  description: string;
  payee: string;
  createdAt: string;
  expiresAt: string;
  expired: boolean;
  /** True when our own node issued it (paying it is an internal transfer). */
  internal: boolean;
}

export interface LedgerPage<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null at the end. */
  nextCursor: string | null;
}

/** One difference between the ledger and the node. */
export interface ReconciliationDifference {
  kind:
    | 'balance'
    | 'invoice_settled_on_node_only'
    | 'invoice_settled_in_ledger_only'
    | 'invoice_missing_on_node'
    | 'invoice_missing_in_ledger'
    | 'payment_succeeded_on_node_only'
    | 'payment_settled_in_ledger_only'
    | 'payment_missing_in_ledger'
    | 'payment_amount_mismatch';
  paymentHash: string | null;
  ledger: string;
  node: string;
}

/** `GET /api/ledger/reconcile`: the ledger compared with what the node reports. */
export interface ReconciliationReportDto {
  checkedAt: string;
  backend: string;
  ok: boolean;
  /** The node's channel balance vs the ledger's settled net (incoming - outgoing - fees), msat. */
  nodeBalanceMsat: number;
  ledgerNetMsat: number;
  invoicesChecked: number;
  paymentsChecked: number;
  differences: ReconciliationDifference[];
}
