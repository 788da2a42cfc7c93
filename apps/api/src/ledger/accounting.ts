import type { LedgerAccountDto, LedgerTransferDto, LedgerTransferKind } from '@app/contracts';
import type Database from 'better-sqlite3';
import { QueryFailedError, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { nowIso } from '../common/time.util';
import { LedgerAccountEntity } from './entities/ledger-account.entity';
import { LedgerTransferEntity } from './entities/ledger-transfer.entity';
import { ledgerError } from './ledger.errors';

/** Account ids of the system accounts (seeded by the Ledger migration). */
export const NODE_ACCOUNT = 'node';
export const TREASURY_ACCOUNT = 'treasury';
export const FEES_ACCOUNT = 'fees';

/** Id of an agent's account. */
export function agentAccountId(agentId: string): string {
  return `agent:${agentId}`;
}

const ACCOUNT_COLS = 'id, kind, "agentId", "noNegative", "debitsPosted", "creditsPosted", "debitsPending", "creditsPending", "createdAt", "updatedAt"';
const TRANSFER_COLS = 'id, kind, "debitAccountId", "creditAccountId", "amountMsat", "pendingId", "timeoutAt", purpose, ref, "idempotencyKey", "createdAt"';
type Totals = 'debitsPosted' | 'creditsPosted' | 'debitsPending' | 'creditsPending';
/** Prepared statements per better-sqlite3 connection (see `Accounting.stmt`). */
const STATEMENTS = new WeakMap<Database.Database, Map<string, Database.Statement>>();
const TOTALS: readonly Totals[] = ['debitsPosted', 'creditsPosted', 'debitsPending', 'creditsPending'];

/** An account row as either driver returns it (PostgreSQL: bigint as string, boolean; SQLite: numbers, 0/1). */
function toAccount(r: Record<string, unknown>): LedgerAccountEntity {
  return {
    id: r.id as string,
    kind: r.kind as LedgerAccountEntity['kind'],
    agentId: (r.agentId as string | null) ?? null,
    noNegative: Boolean(r.noNegative),
    debitsPosted: Number(r.debitsPosted),
    creditsPosted: Number(r.creditsPosted),
    debitsPending: Number(r.debitsPending),
    creditsPending: Number(r.creditsPending),
    createdAt: r.createdAt as string,
    updatedAt: r.updatedAt as string,
  };
}

/** A transfer row as either driver returns it. */
function toTransfer(r: Record<string, unknown>): LedgerTransferEntity {
  return {
    id: r.id as string,
    kind: r.kind as LedgerTransferKind,
    debitAccountId: r.debitAccountId as string,
    creditAccountId: r.creditAccountId as string,
    amountMsat: Number(r.amountMsat),
    pendingId: (r.pendingId as string | null) ?? null,
    timeoutAt: (r.timeoutAt as string | null) ?? null,
    purpose: r.purpose as string,
    ref: (r.ref as string | null) ?? null,
    idempotencyKey: (r.idempotencyKey as string | null) ?? null,
    createdAt: r.createdAt as string,
  };
}

/**
 * A new transfer id: a UUIDv7 (RFC 9562 section 5.7: 48-bit Unix ms timestamp first, then random bits), so ids and
 * the `pendingId`s that point at them are time-ordered and new rows land at the right edge of their B-tree indexes
 * instead of at random pages (measured: the transfer insert was the ledger's largest cost with random v4 ids).
 */
export function transferId(): string {
  return uuidv7();
}

/** What a new transfer moves. Amounts in integer msat. */
export interface TransferInput {
  kind: 'single' | 'pending';
  debitAccountId: string;
  creditAccountId: string;
  amountMsat: number;
  /** Pending only: when the hold expires by itself (ISO-8601). */
  timeoutAt?: string | null;
  purpose: string;
  ref?: string | null;
  /** Client-chosen unique key: the same key with the same fields returns the first transfer; other fields are a 409. */
  idempotencyKey?: string | null;
}

/** Result of a transfer call: the transfer and whether this call created it (false = idempotent replay). */
export interface TransferResult {
  transfer: LedgerTransferEntity;
  created: boolean;
}

/**
 * Checks an msat amount: a positive safe integer (ADR 0010).
 * @throws AppError `ledger/invalid_amount` (400) for 0, negatives, fractions, non-numbers;
 *   `ledger/amount_too_large` (400) above 2^53 - 1 msat.
 */
export function assertMsat(value: unknown, field = 'amountMsat'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isInteger(value) || value <= 0) {
    throw ledgerError('ledger/invalid_amount', `${field} must be a positive integer number of msat`, 400);
  }
  if (!Number.isSafeInteger(value)) {
    throw ledgerError('ledger/amount_too_large', `${field} is above the ledger's limit of ${Number.MAX_SAFE_INTEGER} msat`, 400);
  }
  return value;
}

/**
 * Double-entry accounting on the TigerBeetle model, as functions over a transaction's EntityManager (call them
 * inside an `EventLogWriter.write` unit so totals, transfers and events commit together).
 *
 * Balances are credit-normal: balance = credits posted - debits posted. Each transfer adds its amount to the debit
 * side of one account and the credit side of another, so the sum of all balances is always 0. Maintained totals:
 * - `single`: debitsPosted/creditsPosted += amount.
 * - `pending`: debitsPending/creditsPending += amount (a hold).
 * - `post` of pending P with amount p <= P: pending -= P, posted += p (the rest is released).
 * - `void` / `expire` of P: pending -= P.
 * A `noNegative` account refuses a debit that would make debits posted + pending exceed credits posted: the check is
 * part of the UPDATE's WHERE clause, so it holds under concurrent transactions on PostgreSQL as well.
 *
 * The statements are fixed parameterised SQL (no query builder, no values in the text), so each is prepared once
 * and reused from the driver's statement cache: this is the ledger's hot path (`pnpm bench:ledger`). Writes need a
 * transaction's manager (`tx.manager` of a unit of work); reads work on any manager.
 */
export class Accounting {
  private readonly pg: boolean;
  /** SQLite: the better-sqlite3 handle (one connection, so inside the unit's transaction), for direct statements. */
  private readonly db: Database.Database | null;

  constructor(private readonly m: EntityManager) {
    this.pg = m.connection.options.type === 'postgres';
    this.db = m.connection.options.type === 'better-sqlite3' ? (m.connection.driver as unknown as { databaseConnection: Database.Database }).databaseConnection : null;
  }

  /**
   * SQLite: the prepared statement of `sql` (kept per connection for the life of the process). The hot path calls
   * better-sqlite3 directly: synchronous, on the one connection TypeORM uses, so inside the unit's transaction, and
   * without the query runner's per-call promise, logger and subscriber broadcast (measured ~3-5 us per statement).
   */
  private stmt(sql: string): Database.Statement {
    let cache = STATEMENTS.get(this.db!);
    if (!cache) STATEMENTS.set(this.db!, (cache = new Map()));
    let st = cache.get(sql);
    if (!st) cache.set(sql, (st = this.db!.prepare(sql)));
    return st;
  }

  private stamp: string | null = null;

  /** One timestamp per Accounting (one per unit of work): every row a unit writes carries the same time. */
  private now(): string {
    return (this.stamp ??= nowIso());
  }

  /** `sql` with `?` placeholders rewritten to `$1..$n` on PostgreSQL. */
  private sql(sql: string): string {
    if (!this.pg) return sql;
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  }

  private async rows(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    if (this.db) return this.direct(sql, params, (st, p) => st.all(...p) as Record<string, unknown>[]);
    return (await this.m.query(this.sql(sql), params)) as Record<string, unknown>[];
  }

  /**
   * Runs a write and returns the number of rows it changed. @throws Error outside a transaction's manager;
   * QueryFailedError (as TypeORM would throw it) when the database refuses the statement.
   */
  private async exec(sql: string, params: unknown[]): Promise<number> {
    const qr = this.m.queryRunner;
    if (!qr) throw new Error('Accounting writes need the manager of a unit of work (tx.manager)');
    if (this.db) return this.direct(sql, params, (st, p) => st.run(...p).changes);
    const r = await qr.query(this.sql(sql), params, true);
    return r.affected ?? 0;
  }

  private direct<T>(sql: string, params: unknown[], run: (st: Database.Statement, p: unknown[]) => T): T {
    const p = params.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
    try {
      return run(this.stmt(sql), p);
    } catch (err) {
      throw new QueryFailedError(sql, p, err as Error);
    }
  }

  /** Creates an agent's account (no-negative) if it does not exist; returns its id. */
  async ensureAgentAccount(agentId: string): Promise<string> {
    const id = agentAccountId(agentId);
    const now = this.now();
    await this.exec(
      `INSERT INTO ledger_accounts (${ACCOUNT_COLS}) VALUES (?, 'agent', ?, ?, 0, 0, 0, 0, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [id, agentId, true, now, now],
    );
    return id;
  }

  /** @throws AppError `ledger/account_not_found` (404). */
  async getAccount(id: string): Promise<LedgerAccountEntity> {
    const [a] = await this.rows(`SELECT ${ACCOUNT_COLS} FROM ledger_accounts WHERE id = ?`, [id]);
    if (!a) throw ledgerError('ledger/account_not_found', `Ledger account ${id} not found`, 404);
    return toAccount(a);
  }

  /**
   * Creates a `single` or `pending` transfer and updates both accounts' totals.
   * @throws AppError `ledger/invalid_amount` / `ledger/amount_too_large` (400), `ledger/same_account` (400),
   *   `ledger/account_not_found` (404), `ledger/insufficient_funds` (409, a noNegative debit account would go
   *   negative), `ledger/idempotency_conflict` (409, the key was used for a different transfer).
   */
  async transfer(input: TransferInput): Promise<TransferResult> {
    const amount = assertMsat(input.amountMsat);
    if (input.debitAccountId === input.creditAccountId) throw ledgerError('ledger/same_account', 'Debit and credit accounts must differ', 400);
    if (input.idempotencyKey) {
      const prior = await this.transferByKey(input.idempotencyKey);
      if (prior) {
        const same =
          prior.kind === input.kind &&
          prior.debitAccountId === input.debitAccountId &&
          prior.creditAccountId === input.creditAccountId &&
          prior.amountMsat === amount;
        if (!same) throw ledgerError('ledger/idempotency_conflict', `Idempotency key ${input.idempotencyKey} was used for a different transfer`, 409);
        return { transfer: prior, created: false };
      }
    }
    const pending = input.kind === 'pending';
    await this.debit(input.debitAccountId, amount, pending);
    await this.bump(input.creditAccountId, pending ? { creditsPending: amount } : { creditsPosted: amount });
    const row: LedgerTransferEntity = {
      id: transferId(),
      kind: input.kind,
      debitAccountId: input.debitAccountId,
      creditAccountId: input.creditAccountId,
      amountMsat: amount,
      pendingId: null,
      timeoutAt: pending ? (input.timeoutAt ?? null) : null,
      purpose: input.purpose,
      ref: input.ref ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      createdAt: this.now(),
    };
    await this.insertTransfer(row);
    return { transfer: row, created: true };
  }

  /** The transfer with a client-chosen idempotency key, or null. */
  async transferByKey(idempotencyKey: string): Promise<LedgerTransferEntity | null> {
    const [r] = await this.rows(`SELECT ${TRANSFER_COLS} FROM ledger_transfers WHERE "idempotencyKey" = ?`, [idempotencyKey]);
    return r ? toTransfer(r) : null;
  }

  private async insertTransfer(t: LedgerTransferEntity): Promise<void> {
    await this.exec(`INSERT INTO ledger_transfers (${TRANSFER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      t.id,
      t.kind,
      t.debitAccountId,
      t.creditAccountId,
      t.amountMsat,
      t.pendingId,
      t.timeoutAt,
      t.purpose,
      t.ref,
      t.idempotencyKey,
      t.createdAt,
    ]);
  }

  /**
   * Posts a pending transfer for `amountMsat` (default: the full pending amount); the rest of the hold is released.
   * @throws AppError `ledger/transfer_not_found` (404), `ledger/not_pending` (409, not a pending transfer),
   *   `ledger/already_resolved` (409, already posted/voided/expired), `ledger/post_exceeds_pending` (400).
   */
  async post(pendingId: string | LedgerTransferEntity, amountMsat?: number, idempotencyKey?: string | null): Promise<TransferResult> {
    const p = await this.pendingOf(pendingId, idempotencyKey);
    if ('replay' in p) return { transfer: p.replay, created: false };
    const amount = amountMsat === undefined ? p.pending.amountMsat : amountMsat === 0 ? 0 : assertMsat(amountMsat);
    if (amount > p.pending.amountMsat) {
      throw ledgerError('ledger/post_exceeds_pending', `Cannot post ${amount} msat of a ${p.pending.amountMsat} msat hold`, 400);
    }
    await this.bump(p.pending.debitAccountId, { debitsPending: -p.pending.amountMsat, debitsPosted: amount });
    await this.bump(p.pending.creditAccountId, { creditsPending: -p.pending.amountMsat, creditsPosted: amount });
    return { transfer: await this.insertResolution(p.pending, 'post', amount, idempotencyKey), created: true };
  }

  /** Voids (or, with kind `expire`, expires) a pending transfer, releasing the whole hold. Errors as `post`. */
  async void(pendingId: string | LedgerTransferEntity, kind: 'void' | 'expire' = 'void', idempotencyKey?: string | null): Promise<TransferResult> {
    const p = await this.pendingOf(pendingId, idempotencyKey);
    if ('replay' in p) return { transfer: p.replay, created: false };
    await this.bump(p.pending.debitAccountId, { debitsPending: -p.pending.amountMsat });
    await this.bump(p.pending.creditAccountId, { creditsPending: -p.pending.amountMsat });
    return { transfer: await this.insertResolution(p.pending, kind, p.pending.amountMsat, idempotencyKey), created: true };
  }

  /** The resolution (post/void/expire) of a pending transfer, or null while it is still pending. */
  async resolutionOf(pendingId: string): Promise<LedgerTransferEntity | null> {
    const [r] = await this.rows(`SELECT ${TRANSFER_COLS} FROM ledger_transfers WHERE "pendingId" = ?`, [pendingId]);
    return r ? toTransfer(r) : null;
  }

  /** The pending transfer with idempotency key `key` when it is not resolved yet, else null (one read). */
  async openHold(key: string): Promise<LedgerTransferEntity | null> {
    const [r] = await this.rows(
      `SELECT ${TRANSFER_COLS.split(', ').map((c) => `t.${c}`).join(', ')} FROM ledger_transfers t WHERE t."idempotencyKey" = ? AND t.kind = 'pending' AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r."pendingId" = t.id)`,
      [key],
    );
    return r ? toTransfer(r) : null;
  }

  /** Pending transfers whose `timeoutAt` is at or before `nowIsoValue` and that are not resolved, oldest first. */
  async duePending(nowIsoValue: string, limit = 500, excludePurpose?: string): Promise<LedgerTransferEntity[]> {
    const qb = this.m
      .createQueryBuilder(LedgerTransferEntity, 't')
      .where('t.kind = :k', { k: 'pending' })
      .andWhere('t."timeoutAt" IS NOT NULL AND t."timeoutAt" <= :now', { now: nowIsoValue })
      .andWhere('NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r."pendingId" = t.id)')
      .orderBy('t."timeoutAt"', 'ASC')
      .limit(limit);
    if (excludePurpose) qb.andWhere('t.purpose <> :xp', { xp: excludePurpose });
    return qb.getMany();
  }

  /**
   * The pending transfer to resolve: by id (loaded, then checked unresolved), or as a row the caller has just read
   * in this transaction and found unresolved (`openHold`); a concurrent second resolution still fails on the unique
   * index on `pendingId`.
   */
  private async pendingOf(
    pendingIdOrRow: string | LedgerTransferEntity,
    idempotencyKey?: string | null,
  ): Promise<{ pending: LedgerTransferEntity } | { replay: LedgerTransferEntity }> {
    if (typeof pendingIdOrRow !== 'string') {
      if (pendingIdOrRow.kind !== 'pending') throw ledgerError('ledger/not_pending', `Transfer ${pendingIdOrRow.id} is ${pendingIdOrRow.kind}, not pending`, 409);
      return { pending: pendingIdOrRow };
    }
    const pendingId = pendingIdOrRow;
    const [row] = await this.rows(`SELECT ${TRANSFER_COLS} FROM ledger_transfers WHERE id = ?`, [pendingId]);
    const pending = row ? toTransfer(row) : null;
    if (!pending) throw ledgerError('ledger/transfer_not_found', `Transfer ${pendingId} not found`, 404);
    if (pending.kind !== 'pending') throw ledgerError('ledger/not_pending', `Transfer ${pendingId} is ${pending.kind}, not pending`, 409);
    const done = await this.resolutionOf(pendingId);
    if (done) {
      if (idempotencyKey && done.idempotencyKey === idempotencyKey) return { replay: done };
      throw ledgerError('ledger/already_resolved', `Transfer ${pendingId} was already resolved (${done.kind})`, 409, { resolution: done.kind });
    }
    return { pending };
  }

  private async insertResolution(
    pending: LedgerTransferEntity,
    kind: Exclude<LedgerTransferKind, 'single' | 'pending'>,
    amount: number,
    idempotencyKey?: string | null,
  ): Promise<LedgerTransferEntity> {
    const row: LedgerTransferEntity = {
      id: transferId(),
      kind,
      debitAccountId: pending.debitAccountId,
      creditAccountId: pending.creditAccountId,
      amountMsat: amount,
      pendingId: pending.id,
      timeoutAt: null,
      purpose: pending.purpose,
      ref: pending.ref,
      idempotencyKey: idempotencyKey ?? null,
      createdAt: this.now(),
    };
    // the unique index on pendingId makes a concurrent second resolution fail: a hold is resolved exactly once
    await this.insertTransfer(row);
    return row;
  }

  /** Adds to the debit side; refuses (409) when a noNegative account would go below zero. */
  private async debit(accountId: string, amount: number, pending: boolean): Promise<void> {
    const col = pending ? 'debitsPending' : 'debitsPosted';
    const changed = await this.exec(
      `UPDATE ledger_accounts SET "${col}" = "${col}" + ?, "updatedAt" = ? WHERE id = ? AND (NOT "noNegative" OR "debitsPosted" + "debitsPending" + ? <= "creditsPosted")`,
      [amount, this.now(), accountId, amount],
    );
    if (changed === 1) return;
    const acct = await this.getAccount(accountId); // 404 when missing
    const available = acct.creditsPosted - acct.debitsPosted - acct.debitsPending;
    throw ledgerError('ledger/insufficient_funds', `Account ${accountId} has ${available} msat available, ${amount} msat needed`, 409, {
      accountId,
      availableMsat: available,
      neededMsat: amount,
    });
  }

  /** Adds signed deltas to an account's totals (never guarded: only called where the result cannot go negative). */
  private async bump(accountId: string, deltas: Partial<Record<Totals, number>>): Promise<void> {
    // one statement text for every call (all four totals, zero deltas included): prepared once
    const changed = await this.exec(
      `UPDATE ledger_accounts SET "debitsPosted" = "debitsPosted" + ?, "creditsPosted" = "creditsPosted" + ?, "debitsPending" = "debitsPending" + ?, "creditsPending" = "creditsPending" + ?, "updatedAt" = ? WHERE id = ?`,
      [...TOTALS.map((c) => deltas[c] ?? 0), this.now(), accountId],
    );
    if (changed !== 1) throw ledgerError('ledger/account_not_found', `Ledger account ${accountId} not found`, 404);
  }
}

/** Wire form of an account (available = credits posted - debits posted - debits pending). */
export function toAccountDto(a: LedgerAccountEntity): LedgerAccountDto {
  return {
    id: a.id,
    kind: a.kind,
    agentId: a.agentId,
    noNegative: Boolean(a.noNegative),
    debitsPostedMsat: a.debitsPosted,
    creditsPostedMsat: a.creditsPosted,
    debitsPendingMsat: a.debitsPending,
    creditsPendingMsat: a.creditsPending,
    balanceMsat: a.creditsPosted - a.debitsPosted,
    availableMsat: a.creditsPosted - a.debitsPosted - a.debitsPending,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

/** Wire form of a transfer. */
export function toTransferDto(t: LedgerTransferEntity): LedgerTransferDto {
  return {
    id: t.id,
    kind: t.kind,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amountMsat: t.amountMsat,
    pendingId: t.pendingId,
    timeoutAt: t.timeoutAt,
    purpose: t.purpose,
    ref: t.ref,
    idempotencyKey: t.idempotencyKey,
    createdAt: t.createdAt,
  };
}
