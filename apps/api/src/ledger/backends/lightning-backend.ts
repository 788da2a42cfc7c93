import type { LightningNetwork } from '../bolt11.util';

/** DI token of the configured Lightning backend (`LIGHTNING_BACKEND=mock|lnd`). */
export const LIGHTNING_BACKEND = Symbol('LIGHTNING_BACKEND');

/** A created invoice. */
export interface BackendInvoice {
  paymentHash: string;
  bolt11: string;
  expiresAt: string;
}

/** What the node knows of one of its invoices. `preimage` only when settled. */
export interface BackendInvoiceState {
  state: 'open' | 'settled' | 'canceled' | 'unknown';
  preimage?: string;
  settledAt?: string;
  amountPaidMsat?: number;
}

/** State of an outgoing payment. `unknown` = the node has no record of it (never sent). */
export type PaymentOutcome =
  | { status: 'succeeded'; preimage: string; feeMsat: number }
  | { status: 'failed'; reason: string }
  | { status: 'in_flight' }
  | { status: 'unknown' };

export interface SendPaymentInput {
  bolt11: string;
  paymentHash: string;
  /** Amount to pay (for amountless invoices; equals the invoice amount otherwise). */
  amountMsat: number;
  maxFeeMsat: number;
}

/** Callbacks the backend calls when the node reports a change (after the change is durable on the node). */
export interface BackendListener {
  invoiceSettled(paymentHash: string, preimage: string, settledAt: string): Promise<void>;
  paymentUpdated(paymentHash: string, outcome: PaymentOutcome): Promise<void>;
}

/** For reconciliation: what the node reports. */
export interface NodeSnapshot {
  /** Local channel balance (what the node could spend), msat. */
  channelBalanceMsat: number;
  invoices: { paymentHash: string; state: BackendInvoiceState['state']; amountMsat: number | null }[];
  payments: { paymentHash: string; status: 'in_flight' | 'succeeded' | 'failed'; amountMsat: number; feeMsat: number }[];
}

/**
 * One interface for every Lightning node (mock, LND). Amounts in msat. Implementations never log or return secrets
 * (keys, macaroons); a preimage leaves the backend only for a settled invoice or a succeeded payment.
 */
export interface LightningBackend {
  readonly name: 'mock' | 'lnd';
  readonly network: LightningNetwork;
  /** Called once at boot (key generation, connection check). */
  init(): Promise<void>;
  /** The node's public key (hex). */
  nodePubkey(): string;
  getInfo(): Promise<{ pubkey: string; network: LightningNetwork; blockHeight: number; synced: boolean; backend: string }>;
  createInvoice(input: { amountMsat: number; memo: string; expirySeconds: number }): Promise<BackendInvoice>;
  lookupInvoice(paymentHash: string): Promise<BackendInvoiceState>;
  /** Sends a payment and waits for its outcome (or `in_flight` when it does not finish within the backend's wait). */
  sendPayment(input: SendPaymentInput): Promise<PaymentOutcome>;
  /** Current state of a payment by hash (used after restarts). */
  trackPayment(paymentHash: string): Promise<PaymentOutcome>;
  snapshot(): Promise<NodeSnapshot>;
  setListener(listener: BackendListener): void;
  close(): Promise<void>;
}
