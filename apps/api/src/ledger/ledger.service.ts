import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type {
  CreateInvoiceRequest,
  DecodedInvoiceDto,
  LedgerAccountDto,
  LedgerBalanceDto,
  LedgerBalancesDto,
  LedgerPage,
  LedgerTransactionDto,
  LedgerTransactionStatus,
  LedgerTransactionType,
  LedgerTransferDto,
  PayInvoiceRequest,
  Principal,
} from '@app/contracts';
import { DataSource, In, type EntityManager } from 'typeorm';
import { AppError } from '../common/app-error';
import { DeadlineScheduler } from '../common/scheduling/deadline-scheduler';
import { nowIso } from '../common/time.util';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { isUniqueViolation } from '../database/unique-violation';
import { EventConsumersService } from '../event-log/consumers/event-consumers.service';
import { EventLogWriter } from '../event-log/event-log.writer';
import type { WriteContext } from '../event-log/event-log.types';
import { Accounting, agentAccountId, assertMsat, FEES_ACCOUNT, NODE_ACCOUNT, toAccountDto, toTransferDto, TREASURY_ACCOUNT } from './accounting';
import { LIGHTNING_BACKEND, type BackendListener, type LightningBackend, type PaymentOutcome } from './backends/lightning-backend';
import { sha256Hex } from './backends/mock-lightning.backend';
import { decodeBolt11, MAX_DESCRIPTION_BYTES, type DecodedBolt11 } from './bolt11.util';
import { LedgerAccountEntity } from './entities/ledger-account.entity';
import { LedgerTransactionEntity } from './entities/ledger-transaction.entity';
import { LedgerTransferEntity } from './entities/ledger-transfer.entity';
import { ledgerError } from './ledger.errors';

/** Durable consumer that voids task payout holds on task.failed / task.cancelled. */
export const PAYOUT_VOID_CONSUMER = 'ledger.payout_voids';
/** Deadline kind of invoice expiry (key = payment_hash, due at the invoice's `expiresAt`). */
export const INVOICE_EXPIRY = 'invoice.expiry';
/** Event source of everything the ledger appends. */
export const LEDGER_SOURCE = 'ledger';
/** Invoice expiry bounds (seconds). */
export const MIN_EXPIRY_S = 60;
export const MAX_EXPIRY_S = 7 * 24 * 3600;
export const DEFAULT_EXPIRY_S = 3600;
/** Max transactions per page. */
export const MAX_PAGE = 500;

const HEX64 = /^[0-9a-f]{64}$/;
const IDEM_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Filters of `listTransactions`. Dates are ISO-8601; `cursor` is the previous page's `nextCursor`. */
export interface TransactionQuery {
  type?: LedgerTransactionType;
  status?: LedgerTransactionStatus;
  agentId?: string;
  taskId?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

/** Result of a task-payout hold attempt inside swarm's unit of work. */
export type PayoutHoldResult = { ok: true; transferId: string | null } | { ok: false; reason: string };

/**
 * The Lightning ledger (ADR 0010): double-entry accounts and two-phase transfers (`Accounting`) under ADR-018's
 * transaction view, on one Lightning backend (mock or LND).
 *
 * - Receive: `createInvoice` -> node issues a BOLT11; one unit records the pending incoming transaction, a hold
 *   node -> account (timeout = expiry) and `invoice.created`. Settled (`invoice.settled`, hold posted) only when the
 *   node reports it with a preimage whose sha256 is the payment_hash; expired (`invoice.expired`, hold voided) by
 *   the deadline scheduler (kind `invoice.expiry`, restart- and instance-safe) after the node confirms it is unpaid;
 *   the ledger's own sweep expires what is overdue as a fallback.
 * - Pay: `pay` decodes and checks the bolt11 (network, expiry, amount), then one unit records the outgoing
 *   transaction and holds amount + max fee from the paying account (`payment.in_flight`); the node is asked only
 *   after that commit. Success posts the amount to `node` and the actual fee to `fees` (rest released,
 *   `payment.sent`); failure voids the hold (`payment.failed`). Pending payments are re-tracked at boot and on every
 *   sweep, so a crash never loses an outcome, and the unique (type, payment_hash) row means a hash is paid once.
 * - Task payouts (`...InTx`, called by swarm inside its own units): hold the winning bid treasury -> agent at
 *   assignment, post it with `task.completed`, void it on failure or cancel.
 * Every state change is a conditional update inside an event-log unit, so three instances on one database resolve
 * each invoice and payment exactly once.
 */
@Injectable()
export class LedgerService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, BackendListener {
  private readonly logger = new Logger('Ledger');
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    @Inject(LIGHTNING_BACKEND) readonly backend: LightningBackend,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly consumers: EventConsumersService,
    private readonly deadlines: DeadlineScheduler,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.backend.init();
    this.backend.setListener(this);
    // invoice expiry is a durable deadline: re-read from ledger_transactions at boot and on every scheduler sweep,
    // so an invoice created before a restart (or on an instance that died) still expires, once
    this.deadlines.register({
      kind: INVOICE_EXPIRY,
      listPending: async () => {
        const rows = await this.dataSource.getRepository(LedgerTransactionEntity).find({
          where: { type: 'incoming', status: 'pending' },
          select: { paymentHash: true, expiresAt: true },
        });
        return rows.filter((r) => r.expiresAt).map((r) => ({ key: r.paymentHash, dueAtMs: Date.parse(r.expiresAt!) }));
      },
      fire: (paymentHash) => this.fireInvoiceExpiry(paymentHash),
    });
    // every way a task fails or is cancelled (operator, agent removed, restart recovery, ...) releases its payout hold:
    // a durable consumer, so it happens after a crash too, once (voiding is conditional on the hold being open)
    this.consumers.register({
      name: PAYOUT_VOID_CONSUMER,
      types: ['task.failed', 'task.cancelled'],
      batchSize: 100,
      handle: async (events, tx) => {
        for (const e of events) {
          if (!e.taskId) continue;
          const reason = typeof (e.data as { reason?: unknown }).reason === 'string' ? (e.data as { reason: string }).reason : e.type;
          await this.voidTaskPayoutInTx(tx, e.taskId, reason);
        }
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // the scheduler first: it expires what fell due while no instance ran and arms the rest; the sweep then only
    // re-reads pending invoices and payments from the node
    await this.deadlines
      .resume(INVOICE_EXPIRY)
      .catch((err: unknown) => this.logger.error(`resuming invoice expiries failed: ${(err as Error).message}`));
    await this.sweep().catch((err: unknown) => this.logger.error(`boot sweep failed: ${(err as Error).message}`));
    this.sweepTimer = setInterval(() => void this.sweep().catch((err: unknown) => this.logger.error(`sweep failed: ${(err as Error).message}`)), this.config.LEDGER_SWEEP_MS);
    this.sweepTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    while (this.sweeping) await new Promise((r) => setTimeout(r, 5));
    await this.backend.close();
  }

  // ------------------------------------------------------------------ reads

  /** The account of an id. @throws 404 `ledger/account_not_found`. */
  async account(id: string): Promise<LedgerAccountDto> {
    return toAccountDto(await new Accounting(this.dataSource.manager).getAccount(id));
  }

  /** Every account, system accounts first. */
  async accounts(): Promise<LedgerAccountDto[]> {
    const rows = await this.dataSource.getRepository(LedgerAccountEntity).find({ order: { kind: 'ASC', id: 'ASC' } });
    return rows.map(toAccountDto);
  }

  /** Node balance by ADR-018's formula, plus the treasury, fees and every agent account (O(1) reads each). */
  async balances(): Promise<LedgerBalancesDto> {
    const accounts = await this.dataSource.getRepository(LedgerAccountEntity).find({ order: { id: 'ASC' } });
    const byId = new Map(accounts.map((a) => [a.id, a]));
    return {
      node: await this.balanceFormula(null),
      treasury: toAccountDto(byId.get(TREASURY_ACCOUNT)!),
      fees: toAccountDto(byId.get(FEES_ACCOUNT)!),
      agents: accounts.filter((a) => a.kind === 'agent').map(toAccountDto),
    };
  }

  /**
   * ADR-018's balance formula over the Lightning transactions of one account (or all, `accountId` null = the node):
   * incoming settled, outgoing settled, fees, pending in/out, net = in - out - fees, available = net - pending out.
   * O(1) in the number of transactions: it sums the maintained `ledger_tx_totals` rows.
   */
  async balanceFormula(accountId: string | null): Promise<LedgerBalanceDto> {
    // maintained per (account, type, status) by triggers (migration LedgerTxTotals): a few rows, whatever the history
    const where = accountId ? `WHERE "accountId" = ${this.dataSource.options.type === 'postgres' ? '$1' : '?'}` : '';
    const rows: { type: string; status: string; amount: string | number; fee: string | number; maxFee: string | number }[] = await this.dataSource.query(
      `SELECT type, status, SUM("amountMsat") AS amount, SUM("feeMsat") AS fee, SUM("maxFeeMsat") AS "maxFee" FROM ledger_tx_totals ${where} GROUP BY type, status`,
      accountId ? [accountId] : [],
    );
    const get = (type: string, status: string, col: 'amount' | 'fee' | 'maxFee') => Number(rows.find((r) => r.type === type && r.status === status)?.[col] ?? 0);
    const incoming = get('incoming', 'settled', 'amount');
    const outgoing = get('outgoing', 'settled', 'amount');
    const fees = get('outgoing', 'settled', 'fee');
    // a pending payment holds amount + fee limit: that is what is unavailable until it finishes
    const pendingOut = get('outgoing', 'pending', 'amount') + get('outgoing', 'pending', 'maxFee');
    const net = incoming - outgoing - fees;
    return {
      accountId: accountId ?? NODE_ACCOUNT,
      incomingSettledMsat: incoming,
      outgoingSettledMsat: outgoing,
      feesMsat: fees,
      pendingIncomingMsat: get('incoming', 'pending', 'amount'),
      pendingOutgoingMsat: pendingOut,
      netMsat: net,
      availableMsat: net - pendingOut,
    };
  }

  /** Transfers of an account (or all), newest first, at most `limit` (1..500). */
  async transfers(q: { accountId?: string; ref?: string; limit?: number }): Promise<LedgerTransferDto[]> {
    const qb = this.dataSource.getRepository(LedgerTransferEntity).createQueryBuilder('t').orderBy('t."createdAt"', 'DESC').addOrderBy('t.id', 'DESC');
    if (q.accountId) qb.andWhere('(t."debitAccountId" = :a OR t."creditAccountId" = :a)', { a: q.accountId });
    if (q.ref) qb.andWhere('t.ref = :r', { r: q.ref });
    qb.limit(Math.min(MAX_PAGE, q.limit ?? 100));
    return (await qb.getMany()).map(toTransferDto);
  }

  /** One transaction by id or payment_hash (an incoming one first when both exist). @throws 404. */
  async transaction(idOrHash: string, type?: LedgerTransactionType): Promise<LedgerTransactionDto> {
    const repo = this.dataSource.getRepository(LedgerTransactionEntity);
    const rows = HEX64.test(idOrHash)
      ? await repo.find({ where: type ? { paymentHash: idOrHash, type } : { paymentHash: idOrHash }, order: { type: 'ASC' } })
      : await repo.find({ where: type ? { id: idOrHash, type } : { id: idOrHash } });
    if (rows.length === 0) throw ledgerError('ledger/invoice_not_found', `No ledger transaction ${idOrHash}`, 404);
    return toTransactionDto(rows[0]);
  }

  /** Transactions newest first with filters and keyset paging (`cursor`). @throws 400 `ledger/bad_cursor`. */
  async listTransactions(q: TransactionQuery): Promise<LedgerPage<LedgerTransactionDto>> {
    const limit = Math.min(MAX_PAGE, q.limit ?? 100);
    const qb = this.dataSource.getRepository(LedgerTransactionEntity).createQueryBuilder('t');
    if (q.type) qb.andWhere('t.type = :type', { type: q.type });
    if (q.status) qb.andWhere('t.status = :status', { status: q.status });
    if (q.agentId) qb.andWhere('t."agentId" = :agentId', { agentId: q.agentId });
    if (q.taskId) qb.andWhere('t."taskId" = :taskId', { taskId: q.taskId });
    if (q.from) qb.andWhere('t."createdAt" >= :from', { from: new Date(q.from).toISOString() });
    if (q.to) qb.andWhere('t."createdAt" < :to', { to: new Date(q.to).toISOString() });
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      qb.andWhere('(t."createdAt", t.id) < (:cAt, :cId)', { cAt: c.createdAt, cId: c.id });
    }
    const rows = await qb.orderBy('t."createdAt"', 'DESC').addOrderBy('t.id', 'DESC').limit(limit + 1).getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(toTransactionDto), nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /**
   * Every transaction matching `q` (createdAt in [from, to), optional type/status/agent/task), oldest first in a
   * stable order (createdAt, id), read `pageSize` rows per keyset query: memory stays flat for any range.
   * The keyset is a row-value comparison (`("createdAt", id) > (?, ?)`), which both databases answer as one seek on
   * IDX_ledger_tx_created; rows come back raw (no entity hydration), as the export's hot loop.
   */
  async *iterateTransactions(q: Omit<TransactionQuery, 'cursor' | 'limit'>, pageSize = 500): AsyncGenerator<LedgerTransactionDto> {
    for await (const page of this.iterateTransactionPages(q, pageSize)) yield* page;
  }

  /** `iterateTransactions` a page (at most `pageSize` rows, never empty) at a time: the export formats whole pages. */
  async *iterateTransactionPages(q: Omit<TransactionQuery, 'cursor' | 'limit'>, pageSize = 500): AsyncGenerator<LedgerTransactionDto[]> {
    for await (const page of this.iterateRawTransactionPages(q, pageSize)) yield page.map(rawToTransactionDto);
  }

  /**
   * The rows of `iterateTransactionPages` as the driver returns them, for formatting straight to text (the CSV
   * export): every column of `ledger_transactions`, amounts as numbers (SQLite) or decimal strings (PostgreSQL),
   * `preimage` already null unless settled (as in the DTO). No per-row objects are made, which keeps the garbage of a
   * 1,000,000-row export down. `columns` (entity property names) limits what is read; createdAt and id are always read.
   */
  async *iterateRawTransactionPages(
    q: Omit<TransactionQuery, 'cursor' | 'limit'>,
    pageSize = 250,
    columns?: readonly (keyof LedgerTransactionEntity)[],
  ): AsyncGenerator<Record<string, unknown>[]> {
    const masked = !columns || columns.includes('preimage');
    const select = columns ? [...new Set(['createdAt', 'id', ...(masked ? ['status'] : []), ...columns])].map((c) => `"${c}"`).join(', ') : '*';
    const ph = (i: number) => (this.dataSource.options.type === 'postgres' ? `$${i}` : '?');
    const where: string[] = [];
    const params: unknown[] = [];
    const filter = (sql: string, v: unknown) => {
      params.push(v);
      where.push(`${sql} ${ph(params.length)}`);
    };
    if (q.type) filter('type =', q.type);
    if (q.status) filter('status =', q.status);
    if (q.agentId) filter('"agentId" =', q.agentId);
    if (q.taskId) filter('"taskId" =', q.taskId);
    if (q.to) filter('"createdAt" <', new Date(q.to).toISOString());
    const n = params.length;
    const order = `ORDER BY "createdAt" ASC, id ASC LIMIT ${Number(pageSize)}`;
    const from = q.from ? new Date(q.from).toISOString() : null;
    const firstWhere = from ? [...where, `"createdAt" >= ${ph(n + 1)}`] : where;
    const first = `SELECT ${select} FROM ledger_transactions ${firstWhere.length ? `WHERE ${firstWhere.join(' AND ')}` : ''} ${order}`;
    // after the first page the keyset alone is the lower bound (the last row already satisfied `from`): with both,
    // SQLite seeks on `createdAt >= from` and scans every earlier page again (measured: 1M rows in 75 s, not 15)
    const after = `SELECT ${select} FROM ledger_transactions WHERE ${[...where, `("createdAt", id) > (${ph(n + 1)}, ${ph(n + 2)})`].join(' AND ')} ${order}`;
    let last: Record<string, unknown> | null = null;
    for (;;) {
      const rows: Record<string, unknown>[] = last
        ? await this.dataSource.query(after, [...params, last.createdAt, last.id])
        : await this.dataSource.query(first, from ? [...params, from] : params);
      if (rows.length === 0) return;
      if (masked) for (const r of rows) if (r.status !== 'settled') r.preimage = null;
      yield rows;
      if (rows.length < pageSize) return;
      last = rows[rows.length - 1];
    }
  }

  /** Decodes a bolt11 without paying it. Errors as `decodeBolt11`. */
  decode(bolt11: string): DecodedInvoiceDto {
    const d = decodeBolt11(bolt11, this.backend.network);
    return {
      paymentHash: d.paymentHash,
      network: this.backend.network,
      amountMsat: d.amountMsat,
      description: d.description,
      payee: d.payee,
      createdAt: new Date(d.createdAtMs).toISOString(),
      expiresAt: new Date(d.expiresAtMs).toISOString(),
      expired: d.expiresAtMs <= Date.now(),
      internal: d.payee === this.backend.nodePubkey(),
    };
  }

  // ------------------------------------------------------------------ receive

  /**
   * Creates an invoice crediting the treasury (or `agentId`'s account). Agents may only create invoices for themselves.
   * Idempotent by `idempotencyKey` (same key, same amount: the first invoice; other amount: 409).
   * @throws AppError `ledger/invalid_amount` / `ledger/amount_too_large` (400), `request/bad_request` (400: memo over
   *   639 bytes, expiry out of 60..604800 s), `ledger/idempotency_conflict` (409), `ledger/backend_error` (503).
   */
  async createInvoice(input: CreateInvoiceRequest, principal: Principal): Promise<LedgerTransactionDto> {
    const amountMsat = assertMsat(input.amountMsat);
    const memo = input.memo ?? '';
    if (Buffer.byteLength(memo, 'utf8') > MAX_DESCRIPTION_BYTES) throw new AppError('request/bad_request', `memo must be at most ${MAX_DESCRIPTION_BYTES} bytes`, 400);
    const expirySeconds = input.expirySeconds ?? DEFAULT_EXPIRY_S;
    if (!Number.isInteger(expirySeconds) || expirySeconds < MIN_EXPIRY_S || expirySeconds > MAX_EXPIRY_S) {
      throw new AppError('request/bad_request', `expirySeconds must be an integer in ${MIN_EXPIRY_S}..${MAX_EXPIRY_S}`, 400);
    }
    const agentId = principal.role === 'agent' ? principal.agentId : (input.agentId ?? null);
    if (principal.role === 'agent' && input.agentId && input.agentId !== principal.agentId) {
      throw AppError.forbidden('ledger/agent_required', 'An agent may only create invoices for its own account');
    }
    const idem = this.idemKey(input.idempotencyKey);
    if (idem) {
      const prior = await this.dataSource.getRepository(LedgerTransactionEntity).findOne({ where: { idempotencyKey: idem } });
      if (prior) return this.replay(prior, 'incoming', amountMsat);
    }
    const inv = await this.callBackend(() => this.backend.createInvoice({ amountMsat, memo, expirySeconds }));
    const write = this.events.write(async (tx) => {
      const acc = new Accounting(tx.manager);
      const accountId = agentId ? await acc.ensureAgentAccount(agentId) : TREASURY_ACCOUNT;
      if (idem && (await tx.manager.exists(LedgerTransactionEntity, { where: { idempotencyKey: idem } }))) {
        throw ledgerError('ledger/idempotency_conflict', `Idempotency key ${idem} is being used by a concurrent request`, 409);
      }
      const hold = await acc.transfer({
        kind: 'pending',
        debitAccountId: NODE_ACCOUNT,
        creditAccountId: accountId,
        amountMsat,
        timeoutAt: inv.expiresAt,
        purpose: 'invoice',
        ref: inv.paymentHash,
      });
      const now = nowIso();
      const t: LedgerTransactionEntity = {
        id: randomUUID(),
        type: 'incoming',
        status: 'pending',
        paymentHash: inv.paymentHash,
        bolt11: inv.bolt11,
        preimage: null,
        amountMsat,
        feeMsat: 0,
        maxFeeMsat: 0,
        memo,
        accountId,
        taskId: input.taskId ?? null,
        agentId,
        holdTransferId: hold.transfer.id,
        expiresAt: inv.expiresAt,
        failureReason: null,
        idempotencyKey: idem,
        createdAt: now,
        settledAt: null,
        updatedAt: now,
      };
      await tx.manager.insert(LedgerTransactionEntity, t);
      tx.append({
        type: 'invoice.created',
        source: LEDGER_SOURCE,
        taskId: t.taskId,
        agentId,
        data: { paymentHash: t.paymentHash, amountMsat, memo: memo.slice(0, 200), expiresAt: inv.expiresAt, accountId, transactionId: t.id },
      });
      return t;
    });
    let row: LedgerTransactionEntity;
    try {
      row = await write;
    } catch (err) {
      // the same idempotency key committed by a concurrent request (another instance): answer with its invoice
      if (!idem || !isUniqueViolation(err)) throw err;
      const prior = await this.dataSource.getRepository(LedgerTransactionEntity).findOne({ where: { idempotencyKey: idem } });
      if (!prior) throw err;
      return this.replay(prior, 'incoming', amountMsat);
    }
    this.armExpiry(row.paymentHash, row.expiresAt!);
    return toTransactionDto(row);
  }

  /**
   * Listener: the node reports an invoice settled. Accepted only when sha256(preimage) = payment_hash; a pending
   * invoice's hold is posted, an invoice we had already expired is credited with a single transfer (the node has the
   * money). No-op for unknown hashes and for invoices already settled. Emits `invoice.settled`.
   * @throws AppError `ledger/invalid_preimage` / `ledger/preimage_mismatch` (400).
   */
  async invoiceSettled(paymentHash: string, preimage: string, settledAt: string): Promise<void> {
    assertPreimage(preimage, paymentHash);
    await this.events.write(async (tx) => {
      const t = await tx.manager.findOne(LedgerTransactionEntity, { where: { type: 'incoming', paymentHash } });
      if (!t || t.status === 'settled' || t.status === 'failed') return;
      const from = t.status;
      const ok = await this.moveStatus(tx.manager, t, from, { status: 'settled', preimage, settledAt });
      if (!ok) return;
      const acc = new Accounting(tx.manager);
      const resolution = t.holdTransferId ? await acc.resolutionOf(t.holdTransferId) : null;
      if (t.holdTransferId && !resolution) await acc.post(t.holdTransferId);
      else await acc.transfer({ kind: 'single', debitAccountId: NODE_ACCOUNT, creditAccountId: t.accountId, amountMsat: t.amountMsat, purpose: 'invoice', ref: paymentHash });
      tx.append({
        type: 'invoice.settled',
        source: LEDGER_SOURCE,
        taskId: t.taskId,
        agentId: t.agentId,
        data: { paymentHash, amountMsat: t.amountMsat, accountId: t.accountId, transactionId: t.id, settledAt },
      });
    });
    this.deadlines.disarm(INVOICE_EXPIRY, paymentHash);
  }

  /**
   * Expires a pending incoming invoice whose expiry has passed, after asking the node: a settled invoice is settled
   * instead. Conditional (pending -> expired), so it happens once across instances. Returns true when it expired it.
   * Used by the ledger's sweep (fallback) and tests; the deadline scheduler calls `fireInvoiceExpiry`.
   */
  async expireInvoice(paymentHash: string): Promise<boolean> {
    return (await this.fireInvoiceExpiry(paymentHash)) === 'fired';
  }

  /**
   * The `invoice.expiry` deadline's action (key = payment_hash). Resolves `fired` when this call moved the invoice
   * pending -> expired (hold voided, `invoice.expired {paymentHash, amountMsat, accountId, transactionId}` appended in
   * the same unit), `early` when its `expiresAt` is still ahead (the scheduler re-arms it), `nothing` when it is no
   * longer pending, another instance expired it first, the node settled it (applied here instead), the node still
   * reports it open (clock skew) or the node is unreachable (the scheduler's next sweep retries those two).
   * Never throws for node errors.
   */
  async fireInvoiceExpiry(paymentHash: string): Promise<'fired' | 'nothing' | 'early'> {
    const t = await this.dataSource.getRepository(LedgerTransactionEntity).findOne({ where: { type: 'incoming', paymentHash } });
    if (!t || t.status !== 'pending' || !t.expiresAt) return 'nothing';
    if (Date.parse(t.expiresAt) > Date.now()) return 'early';
    const state = await this.backend.lookupInvoice(paymentHash).catch(() => null);
    if (state === null) return 'nothing'; // node unreachable: the next sweep retries
    if (state.state === 'settled' && state.preimage) {
      await this.invoiceSettled(paymentHash, state.preimage, state.settledAt ?? nowIso());
      return 'nothing';
    }
    if (state.state === 'open') return 'nothing'; // the node still accepts it (clock skew): wait for the node
    const expired = await this.events.write(async (tx) => {
      const fresh = await tx.manager.findOne(LedgerTransactionEntity, { where: { id: t.id } });
      if (!fresh || !(await this.moveStatus(tx.manager, fresh, 'pending', { status: 'expired' }))) return false;
      const acc = new Accounting(tx.manager);
      if (fresh.holdTransferId && !(await acc.resolutionOf(fresh.holdTransferId))) await acc.void(fresh.holdTransferId, 'expire');
      tx.append({
        type: 'invoice.expired',
        source: LEDGER_SOURCE,
        taskId: fresh.taskId,
        agentId: fresh.agentId,
        data: { paymentHash, amountMsat: fresh.amountMsat, accountId: fresh.accountId, transactionId: fresh.id },
      });
      return true;
    });
    return expired ? 'fired' : 'nothing';
  }

  private armExpiry(paymentHash: string, expiresAt: string): void {
    if (this.stopped) return;
    this.deadlines.arm(INVOICE_EXPIRY, paymentHash, Date.parse(expiresAt));
  }

  // ------------------------------------------------------------------ pay

  /**
   * Pays a bolt11 from the treasury (operators), from `agentId`'s account (operators), or from the calling agent's own
   * account (agents). Waits up to LEDGER_PAY_WAIT_MS for the outcome, then answers with the transaction as it is
   * (status pending while in flight). Idempotent by `idempotencyKey` and by payment_hash (a settled or pending
   * payment of the same hash is returned for the same key, refused otherwise; a failed one may be retried).
   * @throws AppError (400) `ledger/invalid_bolt11`, `ledger/wrong_network`, `ledger/invoice_expired`,
   *   `ledger/amount_required`, `ledger/amount_mismatch`, `ledger/invalid_amount`, `ledger/amount_too_large`;
   *   (409) `ledger/already_paid`, `ledger/insufficient_funds`, `ledger/idempotency_conflict`; 403 for an agent
   *   paying from another account; 404 `ledger/account_not_found`.
   */
  async pay(input: PayInvoiceRequest, principal: Principal): Promise<LedgerTransactionDto> {
    const d = decodeBolt11(input.bolt11, this.backend.network);
    if (d.expiresAtMs <= Date.now()) throw ledgerError('ledger/invoice_expired', `Invoice expired at ${new Date(d.expiresAtMs).toISOString()}`, 400);
    let amountMsat: number;
    if (d.amountMsat === null) {
      if (input.amountMsat === undefined) throw ledgerError('ledger/amount_required', 'The invoice has no amount: give amountMsat', 400);
      amountMsat = assertMsat(input.amountMsat);
    } else {
      if (input.amountMsat !== undefined && assertMsat(input.amountMsat) !== d.amountMsat) {
        throw ledgerError('ledger/amount_mismatch', `The invoice is for ${d.amountMsat} msat, not ${input.amountMsat}`, 400);
      }
      amountMsat = d.amountMsat;
    }
    const maxFeeMsat =
      input.maxFeeMsat === undefined ? Math.max(this.config.LEDGER_DEFAULT_MAX_FEE_MSAT, Math.ceil(amountMsat / 100)) : assertFee(input.maxFeeMsat);
    assertMsat(amountMsat + maxFeeMsat, 'amountMsat + maxFeeMsat');
    let agentId: string | null = input.agentId ?? null;
    if (principal.role === 'agent') {
      if (input.agentId && input.agentId !== principal.agentId) throw AppError.forbidden('ledger/agent_required', 'An agent pays from its own account only');
      agentId = principal.agentId;
    }
    const idem = this.idemKey(input.idempotencyKey);
    const internal = d.payee === this.backend.nodePubkey();
    const record = (tx: WriteContext): Promise<{ replay: LedgerTransactionDto } | { fresh: LedgerTransactionEntity }> => this.recordPayment(tx, { d, idem, agentId, amountMsat, maxFeeMsat });
    let recorded: { replay: LedgerTransactionDto } | { fresh: LedgerTransactionEntity };
    try {
      recorded = await this.events.write(record);
    } catch (err) {
      // another instance inserted the same idempotency key or payment_hash between our check and our insert: the
      // second look sees its committed row and answers as a request that came second (replay or 409 already_paid)
      if (!isUniqueViolation(err)) throw err;
      recorded = await this.events.write(record);
    }
    if ('replay' in recorded) return recorded.replay;
    const t = recorded.fresh;
    const send = this.sendAndResolve(t, d, internal);
    const wait = this.config.LEDGER_PAY_WAIT_MS;
    await Promise.race([send, new Promise((r) => setTimeout(r, wait).unref())]);
    return this.transaction(t.id);
  }

  /** The write unit of `pay`: idempotent replay, already-paid check, hold of amount + max fee, row and event. */
  private async recordPayment(
    tx: WriteContext,
    p: { d: DecodedBolt11; idem: string | null; agentId: string | null; amountMsat: number; maxFeeMsat: number },
  ): Promise<{ replay: LedgerTransactionDto } | { fresh: LedgerTransactionEntity }> {
    const { d, idem, agentId, amountMsat, maxFeeMsat } = p;
    if (idem) {
      const prior = await tx.manager.findOne(LedgerTransactionEntity, { where: { idempotencyKey: idem } });
      if (prior) return { replay: this.replay(prior, 'outgoing', amountMsat, d.paymentHash) };
    }
    const acc = new Accounting(tx.manager);
    const accountId = agentId ? agentAccountId(agentId) : TREASURY_ACCOUNT;
    if (agentId) await acc.getAccount(accountId); // 404: an agent without an account has nothing to spend
    const existing = await tx.manager.findOne(LedgerTransactionEntity, { where: { type: 'outgoing', paymentHash: d.paymentHash } });
    // committed by a concurrent request with the same key between the two reads (READ COMMITTED): the same request
    if (existing && idem && existing.idempotencyKey === idem) return { replay: this.replay(existing, 'outgoing', amountMsat, d.paymentHash) };
    if (existing && existing.status !== 'failed') {
      throw ledgerError('ledger/already_paid', `payment_hash ${d.paymentHash} was already paid or is in flight (${existing.status})`, 409, {
        transactionId: existing.id,
        status: existing.status,
      });
    }
    const hold = await acc.transfer({
      kind: 'pending',
      debitAccountId: accountId,
      creditAccountId: NODE_ACCOUNT,
      amountMsat: amountMsat + maxFeeMsat,
      purpose: 'payment',
      ref: d.paymentHash,
    });
    const now = nowIso();
    const fields = {
      status: 'pending' as const,
      bolt11: d.bolt11,
      preimage: null,
      amountMsat,
      feeMsat: 0,
      maxFeeMsat,
      memo: d.description.slice(0, 640),
      accountId,
      taskId: null,
      agentId,
      holdTransferId: hold.transfer.id,
      expiresAt: new Date(d.expiresAtMs).toISOString(),
      failureReason: null,
      idempotencyKey: idem,
      settledAt: null,
      updatedAt: now,
    };
    let t: LedgerTransactionEntity;
    if (existing) {
      // retry of a failed payment: the same row goes back to pending with a new hold (conditional on failed)
      const r = await tx.manager
        .createQueryBuilder()
        .update(LedgerTransactionEntity)
        .set(fields)
        .where('id = :id AND status = :s', { id: existing.id, s: 'failed' })
        .execute();
      if (r.affected !== 1) throw ledgerError('ledger/already_paid', `payment_hash ${d.paymentHash} is being paid concurrently`, 409);
      t = { ...existing, ...fields };
    } else {
      t = { id: randomUUID(), type: 'outgoing', paymentHash: d.paymentHash, createdAt: now, ...fields };
      await tx.manager.insert(LedgerTransactionEntity, t);
    }
    tx.append({
      type: 'payment.in_flight',
      source: LEDGER_SOURCE,
      agentId,
      data: { paymentHash: d.paymentHash, amountMsat, maxFeeMsat, accountId, transactionId: t.id, destination: d.payee },
    });
    return { fresh: t };
  }

  private async sendAndResolve(t: LedgerTransactionEntity, d: DecodedBolt11, internal: boolean): Promise<void> {
    let outcome: PaymentOutcome;
    try {
      outcome = await this.backend.sendPayment({ bolt11: d.bolt11, paymentHash: d.paymentHash, amountMsat: t.amountMsat, maxFeeMsat: t.maxFeeMsat });
    } catch (err) {
      // unknown whether the node sent it: the funds stay held and the sweep tracks it to its end
      this.logger.warn(`sending ${d.paymentHash} failed (${(err as Error).message}); it stays pending until tracked`);
      return;
    }
    await this.paymentUpdated(d.paymentHash, outcome, internal);
  }

  /**
   * Listener / tracker: applies a payment's final outcome once (pending -> settled | failed, conditional).
   * Success: preimage checked (sha256 = payment_hash; a mismatch leaves it pending and logs), hold posted for the
   * amount, fee moved to `fees`, `payment.sent`. Failure: hold voided, `payment.failed`. In flight / unknown: nothing.
   */
  async paymentUpdated(paymentHash: string, outcome: PaymentOutcome, internal?: boolean): Promise<void> {
    if (outcome.status === 'in_flight' || outcome.status === 'unknown') return;
    if (outcome.status === 'succeeded') {
      try {
        assertPreimage(outcome.preimage, paymentHash);
      } catch {
        this.logger.error(`node reported payment ${paymentHash} succeeded with a preimage that does not match: left pending`);
        return;
      }
    }
    await this.events.write(async (tx) => {
      const t = await tx.manager.findOne(LedgerTransactionEntity, { where: { type: 'outgoing', paymentHash } });
      if (!t || t.status !== 'pending') return;
      const acc = new Accounting(tx.manager);
      if (outcome.status === 'succeeded') {
        const fee = Math.min(outcome.feeMsat, t.maxFeeMsat);
        if (!(await this.moveStatus(tx.manager, t, 'pending', { status: 'settled', preimage: outcome.preimage, feeMsat: fee, settledAt: nowIso() }))) return;
        await acc.post(t.holdTransferId!, t.amountMsat);
        if (fee > 0) await acc.transfer({ kind: 'single', debitAccountId: t.accountId, creditAccountId: FEES_ACCOUNT, amountMsat: fee, purpose: 'fee', ref: paymentHash });
        tx.append({
          type: 'payment.sent',
          source: LEDGER_SOURCE,
          agentId: t.agentId,
          data: { paymentHash, amountMsat: t.amountMsat, feeMsat: fee, accountId: t.accountId, transactionId: t.id, internal: internal ?? false },
        });
      } else {
        const reason = outcome.reason.slice(0, 300);
        if (!(await this.moveStatus(tx.manager, t, 'pending', { status: 'failed', failureReason: reason }))) return;
        await acc.void(t.holdTransferId!);
        tx.append({
          type: 'payment.failed',
          source: LEDGER_SOURCE,
          agentId: t.agentId,
          data: { paymentHash, amountMsat: t.amountMsat, accountId: t.accountId, transactionId: t.id, reason },
        });
      }
    });
  }

  // ------------------------------------------------------------------ task payouts (inside swarm's units)

  /**
   * Holds a task's winning bid (`bidSats` * 1000 msat) from the treasury for the agent (pending treasury -> agent,
   * idempotency key `task-hold:<taskId>`), with `hold.created`. Returns `{ ok: false, reason }` without writing
   * anything when the treasury cannot cover it, so swarm can refuse the assignment with that reason.
   * A bid of 0 or null holds nothing (`transferId: null`).
   */
  async holdTaskPayoutInTx(tx: WriteContext, task: { taskId: string; agentId: string; bidSats: number | null }): Promise<PayoutHoldResult> {
    if (this.config.LEDGER_TASK_PAYOUTS !== 'on' || !task.bidSats || task.bidSats <= 0) return { ok: true, transferId: null };
    const amountMsat = task.bidSats * 1000;
    const acc = new Accounting(tx.manager);
    const treasury = await acc.getAccount(TREASURY_ACCOUNT);
    const available = treasury.creditsPosted - treasury.debitsPosted - treasury.debitsPending;
    if (available < amountMsat) {
      return { ok: false, reason: `treasury cannot cover the bid: ${Math.floor(available / 1000)} sats available, ${task.bidSats} sats needed` };
    }
    const creditAccountId = await acc.ensureAgentAccount(task.agentId);
    try {
      const r = await acc.transfer({
        kind: 'pending',
        debitAccountId: TREASURY_ACCOUNT,
        creditAccountId,
        amountMsat,
        purpose: 'task_payout',
        ref: task.taskId,
        idempotencyKey: `task-hold:${task.taskId}`,
      });
      if (r.created) {
        tx.append({
          type: 'hold.created',
          source: LEDGER_SOURCE,
          taskId: task.taskId,
          agentId: task.agentId,
          data: { transferId: r.transfer.id, amountMsat, debitAccountId: TREASURY_ACCOUNT, creditAccountId, purpose: 'task_payout' },
        });
      }
      return { ok: true, transferId: r.transfer.id };
    } catch (err) {
      if (err instanceof AppError && err.code === 'ledger/insufficient_funds') return { ok: false, reason: `treasury cannot cover the bid: ${err.message}` };
      throw err;
    }
  }

  /** Posts a task's payout hold to the agent (`hold.posted`); no-op when the task has no unresolved hold. */
  async postTaskPayoutInTx(tx: WriteContext, taskId: string): Promise<void> {
    const hold = await this.openTaskHold(tx.manager, taskId);
    if (!hold) return;
    const r = await new Accounting(tx.manager).post(hold);
    tx.append({
      type: 'hold.posted',
      source: LEDGER_SOURCE,
      taskId,
      agentId: agentOf(hold.creditAccountId),
      data: { transferId: r.transfer.id, pendingId: hold.id, amountMsat: r.transfer.amountMsat, debitAccountId: hold.debitAccountId, creditAccountId: hold.creditAccountId, purpose: hold.purpose },
    });
  }

  /** Voids a task's payout hold (`hold.voided {reason}`); no-op when the task has no unresolved hold. */
  async voidTaskPayoutInTx(tx: WriteContext, taskId: string, reason: string): Promise<void> {
    const hold = await this.openTaskHold(tx.manager, taskId);
    if (!hold) return;
    const r = await new Accounting(tx.manager).void(hold);
    tx.append({
      type: 'hold.voided',
      source: LEDGER_SOURCE,
      taskId,
      agentId: agentOf(hold.creditAccountId),
      data: {
        transferId: r.transfer.id,
        pendingId: hold.id,
        amountMsat: hold.amountMsat,
        debitAccountId: hold.debitAccountId,
        creditAccountId: hold.creditAccountId,
        purpose: hold.purpose,
        reason: reason.slice(0, 200),
      },
    });
  }

  private openTaskHold(m: EntityManager, taskId: string): Promise<LedgerTransferEntity | null> {
    return new Accounting(m).openHold(`task-hold:${taskId}`);
  }

  // ------------------------------------------------------------------ sweep and recovery

  /**
   * One pass of the ledger's background work (boot and every LEDGER_SWEEP_MS), safe on several instances:
   * pending invoices are re-read from the node (a settle the stream missed is applied) and expired when due;
   * pending payments are tracked on the node and finished (`unknown` = never sent: failed); due generic holds expire.
   */
  async sweep(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      const repo = this.dataSource.getRepository(LedgerTransactionEntity);
      const pendingIn = await repo.find({ where: { type: 'incoming', status: 'pending' }, take: 1000 });
      const nowMs = Date.now();
      for (const t of pendingIn) {
        if (this.stopped) return;
        if (t.expiresAt && Date.parse(t.expiresAt) <= nowMs) {
          await this.expireInvoice(t.paymentHash);
          continue;
        }
        if (t.expiresAt && !this.deadlines.isArmed(INVOICE_EXPIRY, t.paymentHash)) this.armExpiry(t.paymentHash, t.expiresAt);
        const st = await this.backend.lookupInvoice(t.paymentHash).catch(() => null);
        if (st?.state === 'settled' && st.preimage) await this.invoiceSettled(t.paymentHash, st.preimage, st.settledAt ?? nowIso());
      }
      const pendingOut = await repo.find({ where: { type: 'outgoing', status: In(['pending']) }, take: 1000 });
      for (const t of pendingOut) {
        if (this.stopped) return;
        // give a payment that was just recorded time to reach the node before "unknown" means "never sent"
        if (nowMs - Date.parse(t.updatedAt) < 2 * this.config.LEDGER_SWEEP_MS) continue;
        const outcome = await this.backend.trackPayment(t.paymentHash).catch(() => null);
        if (!outcome) continue;
        if (outcome.status === 'unknown') await this.paymentUpdated(t.paymentHash, { status: 'failed', reason: 'never reached the node' });
        else await this.paymentUpdated(t.paymentHash, outcome);
      }
      const due = await new Accounting(this.dataSource.manager).duePending(nowIso(), 500, 'invoice');
      for (const p of due) {
        await this.events.write(async (tx) => {
          const acc = new Accounting(tx.manager);
          if (await acc.resolutionOf(p.id)) return;
          await acc.void(p.id, 'expire');
        });
      }
    } finally {
      this.sweeping = false;
    }
  }

  /** Track every pending payment now (used after restarts and by tests), ignoring the grace period. */
  async trackPendingPayments(): Promise<number> {
    const pendingOut = await this.dataSource.getRepository(LedgerTransactionEntity).find({ where: { type: 'outgoing', status: 'pending' } });
    for (const t of pendingOut) {
      const outcome = await this.backend.trackPayment(t.paymentHash);
      await this.paymentUpdated(t.paymentHash, outcome.status === 'unknown' ? { status: 'failed', reason: 'never reached the node' } : outcome);
    }
    return pendingOut.length;
  }

  // ------------------------------------------------------------------ helpers

  private async moveStatus(m: EntityManager, t: LedgerTransactionEntity, from: LedgerTransactionStatus, set: Partial<LedgerTransactionEntity>): Promise<boolean> {
    const r = await m
      .createQueryBuilder()
      .update(LedgerTransactionEntity)
      .set({ ...set, updatedAt: nowIso() })
      .where('id = :id AND status = :from', { id: t.id, from })
      .execute();
    if (r.affected === 1) Object.assign(t, set);
    return r.affected === 1;
  }

  private idemKey(key: string | undefined): string | null {
    if (key === undefined) return null;
    if (!IDEM_RE.test(key)) throw new AppError('request/bad_request', 'idempotencyKey must be 1-128 letters, digits, _ . : -', 400);
    return key;
  }

  private replay(prior: LedgerTransactionEntity, type: LedgerTransactionType, amountMsat: number, paymentHash?: string): LedgerTransactionDto {
    if (prior.type !== type || prior.amountMsat !== amountMsat || (paymentHash && prior.paymentHash !== paymentHash)) {
      throw ledgerError('ledger/idempotency_conflict', `Idempotency key ${prior.idempotencyKey} was used for a different request`, 409);
    }
    return toTransactionDto(prior);
  }

  private async callBackend<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw ledgerError('ledger/backend_error', `Lightning backend error: ${(err as Error).message}`, 503);
    }
  }
}

/** @throws AppError `ledger/invalid_preimage` (400: not 64 hex chars), `ledger/preimage_mismatch` (400). */
export function assertPreimage(preimage: unknown, paymentHash: string): string {
  if (typeof preimage !== 'string' || !HEX64.test(preimage)) throw ledgerError('ledger/invalid_preimage', 'preimage must be 32 bytes as 64 lowercase hex characters', 400);
  if (sha256Hex(preimage) !== paymentHash) throw ledgerError('ledger/preimage_mismatch', 'sha256(preimage) does not equal the payment_hash', 400);
  return preimage;
}

function assertFee(v: unknown): number {
  if (v === 0) return 0;
  return assertMsat(v, 'maxFeeMsat');
}

function agentOf(accountId: string): string | null {
  return accountId.startsWith('agent:') ? accountId.slice('agent:'.length) : null;
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(c: string): { createdAt: string; id: string } {
  const text = Buffer.from(c, 'base64url').toString('utf8');
  const [createdAt, id] = text.split('|');
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || id.length > 64) throw ledgerError('ledger/bad_cursor', 'cursor is not a cursor from this API', 400);
  return { createdAt, id };
}

/** Wire form of a transaction; the preimage only once settled. */
/** Wire form of a raw `ledger_transactions` row (PostgreSQL returns bigint columns as strings). */
export function rawToTransactionDto(r: Record<string, unknown>): LedgerTransactionDto {
  return toTransactionDto({
    ...(r as unknown as LedgerTransactionEntity),
    amountMsat: Number(r.amountMsat),
    feeMsat: Number(r.feeMsat),
    maxFeeMsat: Number(r.maxFeeMsat),
  });
}

export function toTransactionDto(t: LedgerTransactionEntity): LedgerTransactionDto {
  return {
    id: t.id,
    type: t.type,
    status: t.status,
    paymentHash: t.paymentHash,
    bolt11: t.bolt11,
    preimage: t.status === 'settled' ? t.preimage : null,
    amountMsat: t.amountMsat,
    feeMsat: t.feeMsat,
    maxFeeMsat: t.maxFeeMsat,
    memo: t.memo,
    accountId: t.accountId,
    taskId: t.taskId,
    agentId: t.agentId,
    expiresAt: t.expiresAt,
    failureReason: t.failureReason,
    idempotencyKey: t.idempotencyKey,
    createdAt: t.createdAt,
    settledAt: t.settledAt,
  };
}
