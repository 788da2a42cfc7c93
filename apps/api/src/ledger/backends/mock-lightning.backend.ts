import { Logger } from '@nestjs/common';
import { createECDH, createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { nowIso } from '../../common/time.util';
import type { EventLogWriter } from '../../event-log/event-log.writer';
import { decodeBolt11, encodeBolt11, type LightningNetwork } from '../bolt11.util';
import { MockInvoiceEntity, MockNodeKeyEntity, MockPaymentEntity } from '../entities/mock-node.entity';
import { ledgerError } from '../ledger.errors';
import type {
  BackendInvoice,
  BackendInvoiceState,
  BackendListener,
  LightningBackend,
  NodeSnapshot,
  PaymentOutcome,
  SendPaymentInput,
} from './lightning-backend';

/** Outcome a simulated remote invoice gives when we pay it. */
export type MockOutcome = 'succeed' | 'fail' | 'in_flight';

/** sha256 of a hex preimage, hex. */
export function sha256Hex(hex: string): string {
  return createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
}

/**
 * The mock Lightning node (`LIGHTNING_BACKEND=mock`, the default). It issues real BOLT11 invoices signed with a
 * secp256k1 node key generated on first start and kept in `ledger_mock_node` (so every instance on one database is
 * the same node). preimage = 32 random bytes, payment_hash = sha256(preimage). It can pay its own invoices (an
 * internal transfer: settles the invoice and succeeds with its preimage, fee 0), and invoices of a simulated remote
 * peer (`createRemoteInvoice`) with an operator-chosen outcome (succeed with a fee, fail with a reason, stay in
 * flight until `resolveRemotePayment`). Any other invoice fails with FAILURE_REASON_NO_ROUTE. Payments are recorded
 * by payment_hash: sending the same hash again returns the recorded outcome and never pays twice.
 * State lives in the database (`ledger_mock_invoices`, `ledger_mock_payments`), written through the event log's
 * units of work, so the node survives restarts.
 */
export class MockLightningBackend implements LightningBackend {
  readonly name = 'mock' as const;
  private readonly logger = new Logger('MockLightning');
  private local: MockNodeKeyEntity | null = null;
  private remote: MockNodeKeyEntity | null = null;
  private listener: BackendListener | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    readonly network: LightningNetwork,
  ) {}

  async init(): Promise<void> {
    this.local = await this.key('local');
    this.remote = await this.key('remote');
  }

  /** Loads or creates (once across instances: insert-or-ignore, then read back) a node key. */
  private async key(name: 'local' | 'remote'): Promise<MockNodeKeyEntity> {
    const repo = this.dataSource.getRepository(MockNodeKeyEntity);
    const found = await repo.findOne({ where: { name } });
    if (found) return found;
    const ecdh = createECDH('secp256k1');
    ecdh.generateKeys();
    const row: MockNodeKeyEntity = {
      name,
      privateKey: ecdh.getPrivateKey('hex').padStart(64, '0'),
      publicKey: ecdh.getPublicKey('hex', 'compressed'),
      createdAt: nowIso(),
    };
    await this.events.write(async ({ manager }) => {
      await manager.createQueryBuilder().insert().into(MockNodeKeyEntity).values(row).orIgnore().execute();
    });
    const stored = await repo.findOne({ where: { name } });
    if (!stored) throw new Error(`mock node key ${name} missing after insert`);
    return stored;
  }

  nodePubkey(): string {
    return this.local?.publicKey ?? '';
  }

  /** Public key of the simulated remote peer. */
  remotePubkey(): string {
    return this.remote?.publicKey ?? '';
  }

  setListener(listener: BackendListener): void {
    this.listener = listener;
  }

  async getInfo() {
    return { pubkey: this.nodePubkey(), network: this.network, blockHeight: 800_000, synced: true, backend: 'mock' };
  }

  createInvoice(input: { amountMsat: number; memo: string; expirySeconds: number }): Promise<BackendInvoice> {
    return this.issue('local', input, 'succeed', null, 0);
  }

  /**
   * Dev/test: an invoice of the simulated remote peer; paying it gives `outcome` (fee `feeMsat` on success,
   * `reason` on failure, default FAILURE_REASON_NO_ROUTE).
   */
  createRemoteInvoice(input: { amountMsat: number | null; memo: string; expirySeconds: number; outcome: MockOutcome; reason?: string | null; feeMsat?: number }): Promise<BackendInvoice> {
    return this.issue('remote', input, input.outcome, input.reason ?? null, input.feeMsat ?? 0);
  }

  private async issue(
    origin: 'local' | 'remote',
    input: { amountMsat: number | null; memo: string; expirySeconds: number },
    outcome: MockOutcome,
    reason: string | null,
    feeMsat: number,
  ): Promise<BackendInvoice> {
    const keyRow = origin === 'local' ? this.local : this.remote;
    if (!keyRow) throw new Error('mock Lightning backend not initialised');
    const preimage = randomBytes(32).toString('hex');
    const paymentHash = sha256Hex(preimage);
    const nowMs = Date.now();
    const bolt11 = encodeBolt11({
      network: this.network,
      privateKeyHex: keyRow.privateKey,
      paymentHash,
      paymentSecret: randomBytes(32).toString('hex'),
      amountMsat: input.amountMsat,
      description: input.memo,
      expirySeconds: input.expirySeconds,
      nowMs,
    });
    // BOLT11 timestamps are whole seconds: the expiry is counted from the second the invoice says
    const expiresAt = new Date(Math.floor(nowMs / 1000) * 1000 + input.expirySeconds * 1000).toISOString();
    const row: MockInvoiceEntity = {
      paymentHash,
      origin,
      preimage,
      bolt11,
      amountMsat: input.amountMsat,
      state: 'open',
      outcome,
      outcomeReason: reason,
      feeMsat,
      expiresAt,
      createdAt: nowIso(),
      settledAt: null,
    };
    await this.events.write(({ manager }) => manager.insert(MockInvoiceEntity, row));
    return { paymentHash, bolt11, expiresAt };
  }

  async lookupInvoice(paymentHash: string): Promise<BackendInvoiceState> {
    const inv = await this.dataSource.getRepository(MockInvoiceEntity).findOne({ where: { paymentHash, origin: 'local' } });
    if (!inv) return { state: 'unknown' };
    if (inv.state === 'settled') return { state: 'settled', preimage: inv.preimage, settledAt: inv.settledAt ?? undefined, amountPaidMsat: inv.amountMsat ?? 0 };
    if (inv.state === 'open' && Date.parse(inv.expiresAt) <= Date.now()) return { state: 'canceled' };
    return { state: inv.state };
  }

  /**
   * Dev: an outside payer pays one of our invoices (the HTLC arrives; the node releases the preimage). With
   * `preimage`, it must hash to the payment_hash.
   * @throws AppError `ledger/invoice_not_found` (404), `ledger/preimage_mismatch` (400), `ledger/invoice_not_open`
   *   (409, settled, canceled or expired).
   */
  async settleInvoice(paymentHash: string, preimage?: string): Promise<{ preimage: string; settledAt: string }> {
    const inv = await this.dataSource.getRepository(MockInvoiceEntity).findOne({ where: { paymentHash, origin: 'local' } });
    if (!inv) throw ledgerError('ledger/invoice_not_found', `No invoice with payment_hash ${paymentHash}`, 404);
    if (preimage !== undefined && sha256Hex(preimage) !== paymentHash) {
      throw ledgerError('ledger/preimage_mismatch', 'sha256(preimage) does not equal the payment_hash', 400);
    }
    const settledAt = await this.markSettled(inv);
    if (!settledAt) throw ledgerError('ledger/invoice_not_open', `Invoice ${paymentHash} is not open (settled, canceled or expired)`, 409);
    await this.notifySettled(paymentHash, inv.preimage, settledAt);
    return { preimage: inv.preimage, settledAt };
  }

  /** open -> settled once (conditional update); returns the settle time, or null when it was not open/expired. */
  private async markSettled(inv: MockInvoiceEntity, payment?: MockPaymentEntity): Promise<string | null> {
    const now = nowIso();
    if (Date.parse(inv.expiresAt) <= Date.now()) return null;
    return this.events.write(async ({ manager }) => {
      const r = await manager
        .createQueryBuilder()
        .update(MockInvoiceEntity)
        .set({ state: 'settled', settledAt: now })
        .where('"paymentHash" = :h AND state = :s', { h: inv.paymentHash, s: 'open' })
        .execute();
      if (r.affected !== 1) return null;
      if (payment) await manager.insert(MockPaymentEntity, payment);
      return now;
    });
  }

  private async notifySettled(paymentHash: string, preimage: string, settledAt: string): Promise<void> {
    try {
      await this.listener?.invoiceSettled(paymentHash, preimage, settledAt);
    } catch (err) {
      // the ledger re-reads the node on its sweep and at boot; nothing is lost
      this.logger.warn(`settle notification for ${paymentHash} failed: ${(err as Error).message}`);
    }
  }

  async sendPayment(input: SendPaymentInput): Promise<PaymentOutcome> {
    const prior = await this.trackPayment(input.paymentHash);
    if (prior.status !== 'unknown') return prior; // never pays the same hash twice
    const decoded = decodeBolt11(input.bolt11, this.network);
    const inv = await this.dataSource.getRepository(MockInvoiceEntity).findOne({ where: { paymentHash: decoded.paymentHash } });
    const now = nowIso();
    const base: MockPaymentEntity = {
      paymentHash: input.paymentHash,
      status: 'failed',
      amountMsat: input.amountMsat,
      feeMsat: 0,
      preimage: null,
      failureReason: null,
      createdAt: now,
      updatedAt: now,
    };
    if (inv && inv.origin === 'local' && decoded.payee === this.nodePubkey()) {
      // paying our own invoice: settle it and succeed in one unit of the node's state
      const succeeded: MockPaymentEntity = { ...base, status: 'succeeded', preimage: inv.preimage };
      const settledAt = await this.markSettled(inv, succeeded);
      if (!settledAt) return this.record({ ...base, failureReason: 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS' });
      await this.notifySettled(inv.paymentHash, inv.preimage, settledAt);
      return { status: 'succeeded', preimage: inv.preimage, feeMsat: 0 };
    }
    if (!inv || inv.origin !== 'remote' || decoded.payee !== this.remotePubkey()) {
      return this.record({ ...base, failureReason: 'FAILURE_REASON_NO_ROUTE' });
    }
    if (inv.outcome === 'in_flight') return this.record({ ...base, status: 'in_flight' });
    if (inv.outcome === 'fail') return this.record({ ...base, failureReason: inv.outcomeReason ?? 'FAILURE_REASON_NO_ROUTE' });
    if (inv.feeMsat > input.maxFeeMsat) return this.record({ ...base, failureReason: 'FAILURE_REASON_NO_ROUTE' });
    return this.record({ ...base, status: 'succeeded', preimage: inv.preimage, feeMsat: inv.feeMsat });
  }

  /** Stores a payment's outcome (first writer wins) and returns what is stored. */
  private async record(row: MockPaymentEntity): Promise<PaymentOutcome> {
    await this.events.write(({ manager }) => manager.createQueryBuilder().insert().into(MockPaymentEntity).values(row).orIgnore().execute());
    return this.trackPayment(row.paymentHash);
  }

  /**
   * Dev/test: finishes an in-flight payment to the remote peer (`succeed` with the remote preimage and `feeMsat`, or
   * `fail` with `reason`) and notifies the ledger.
   * @throws AppError `ledger/payment_not_found` (404) when no in-flight payment has that hash.
   */
  async resolveRemotePayment(paymentHash: string, outcome: 'succeed' | 'fail', reason?: string, feeMsat = 0): Promise<PaymentOutcome> {
    const inv = await this.dataSource.getRepository(MockInvoiceEntity).findOne({ where: { paymentHash, origin: 'remote' } });
    const done = await this.events.write(async ({ manager }) => {
      const set: Partial<MockPaymentEntity> =
        outcome === 'succeed' && inv
          ? { status: 'succeeded', preimage: inv.preimage, feeMsat, updatedAt: nowIso() }
          : { status: 'failed', failureReason: reason ?? 'FAILURE_REASON_TIMEOUT', updatedAt: nowIso() };
      const r = await manager
        .createQueryBuilder()
        .update(MockPaymentEntity)
        .set(set)
        .where('"paymentHash" = :h AND status = :s', { h: paymentHash, s: 'in_flight' })
        .execute();
      return r.affected === 1;
    });
    if (!done) throw ledgerError('ledger/payment_not_found', `No in-flight payment with payment_hash ${paymentHash}`, 404);
    const result = await this.trackPayment(paymentHash);
    try {
      await this.listener?.paymentUpdated(paymentHash, result);
    } catch (err) {
      this.logger.warn(`payment notification for ${paymentHash} failed: ${(err as Error).message}`);
    }
    return result;
  }

  async trackPayment(paymentHash: string): Promise<PaymentOutcome> {
    const p = await this.dataSource.getRepository(MockPaymentEntity).findOne({ where: { paymentHash } });
    if (!p) return { status: 'unknown' };
    if (p.status === 'succeeded') return { status: 'succeeded', preimage: p.preimage!, feeMsat: p.feeMsat };
    if (p.status === 'failed') return { status: 'failed', reason: p.failureReason ?? 'FAILURE_REASON_ERROR' };
    return { status: 'in_flight' };
  }

  async snapshot(): Promise<NodeSnapshot> {
    const invoices = await this.dataSource.getRepository(MockInvoiceEntity).find({ where: { origin: 'local' } });
    const payments = await this.dataSource.getRepository(MockPaymentEntity).find();
    const nowMs = Date.now();
    let balance = 0;
    for (const i of invoices) if (i.state === 'settled') balance += i.amountMsat ?? 0;
    for (const p of payments) if (p.status === 'succeeded') balance -= p.amountMsat + p.feeMsat;
    return {
      channelBalanceMsat: balance,
      invoices: invoices.map((i) => ({
        paymentHash: i.paymentHash,
        state: i.state === 'open' && Date.parse(i.expiresAt) <= nowMs ? 'canceled' : i.state,
        amountMsat: i.amountMsat,
      })),
      payments: payments.map((p) => ({ paymentHash: p.paymentHash, status: p.status, amountMsat: p.amountMsat, feeMsat: p.feeMsat })),
    };
  }

  async close(): Promise<void> {
    this.listener = null;
  }
}
