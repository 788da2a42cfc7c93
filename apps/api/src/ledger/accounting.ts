import { randomUUID } from 'node:crypto';
import type { LedgerAccountDto, LedgerTransferDto, LedgerTransferKind } from '@app/contracts';
import type { EntityManager } from 'typeorm';
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
 */
export class Accounting {
  constructor(private readonly m: EntityManager) {}

  /** Creates an agent's account (no-negative) if it does not exist; returns its id. */
  async ensureAgentAccount(agentId: string): Promise<string> {
    const id = agentAccountId(agentId);
    const now = nowIso();
    await this.m
      .createQueryBuilder()
      .insert()
      .into(LedgerAccountEntity)
      .values({ id, kind: 'agent', agentId, noNegative: true, debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0, createdAt: now, updatedAt: now })
      .orIgnore()
      .execute();
    return id;
  }

  /** @throws AppError `ledger/account_not_found` (404). */
  async getAccount(id: string): Promise<LedgerAccountEntity> {
    const a = await this.m.findOne(LedgerAccountEntity, { where: { id } });
    if (!a) throw ledgerError('ledger/account_not_found', `Ledger account ${id} not found`, 404);
    return a;
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
      const prior = await this.m.findOne(LedgerTransferEntity, { where: { idempotencyKey: input.idempotencyKey } });
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
      id: randomUUID(),
      kind: input.kind,
      debitAccountId: input.debitAccountId,
      creditAccountId: input.creditAccountId,
      amountMsat: amount,
      pendingId: null,
      timeoutAt: pending ? (input.timeoutAt ?? null) : null,
      purpose: input.purpose,
      ref: input.ref ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      createdAt: nowIso(),
    };
    await this.m.insert(LedgerTransferEntity, row);
    return { transfer: row, created: true };
  }

  /**
   * Posts a pending transfer for `amountMsat` (default: the full pending amount); the rest of the hold is released.
   * @throws AppError `ledger/transfer_not_found` (404), `ledger/not_pending` (409, not a pending transfer),
   *   `ledger/already_resolved` (409, already posted/voided/expired), `ledger/post_exceeds_pending` (400).
   */
  async post(pendingId: string, amountMsat?: number, idempotencyKey?: string | null): Promise<TransferResult> {
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
  async void(pendingId: string, kind: 'void' | 'expire' = 'void', idempotencyKey?: string | null): Promise<TransferResult> {
    const p = await this.pendingOf(pendingId, idempotencyKey);
    if ('replay' in p) return { transfer: p.replay, created: false };
    await this.bump(p.pending.debitAccountId, { debitsPending: -p.pending.amountMsat });
    await this.bump(p.pending.creditAccountId, { creditsPending: -p.pending.amountMsat });
    return { transfer: await this.insertResolution(p.pending, kind, p.pending.amountMsat, idempotencyKey), created: true };
  }

  /** The resolution (post/void/expire) of a pending transfer, or null while it is still pending. */
  resolutionOf(pendingId: string): Promise<LedgerTransferEntity | null> {
    return this.m.findOne(LedgerTransferEntity, { where: { pendingId } });
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

  private async pendingOf(
    pendingId: string,
    idempotencyKey?: string | null,
  ): Promise<{ pending: LedgerTransferEntity } | { replay: LedgerTransferEntity }> {
    const pending = await this.m.findOne(LedgerTransferEntity, { where: { id: pendingId } });
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
      id: randomUUID(),
      kind,
      debitAccountId: pending.debitAccountId,
      creditAccountId: pending.creditAccountId,
      amountMsat: amount,
      pendingId: pending.id,
      timeoutAt: null,
      purpose: pending.purpose,
      ref: pending.ref,
      idempotencyKey: idempotencyKey ?? null,
      createdAt: nowIso(),
    };
    // the unique index on pendingId makes a concurrent second resolution fail: a hold is resolved exactly once
    await this.m.insert(LedgerTransferEntity, row);
    return row;
  }

  /** Adds to the debit side; refuses (409) when a noNegative account would go below zero. */
  private async debit(accountId: string, amount: number, pending: boolean): Promise<void> {
    const col = pending ? 'debitsPending' : 'debitsPosted';
    const r = await this.m
      .createQueryBuilder()
      .update(LedgerAccountEntity)
      .set({ [col]: () => `"${col}" + ${amount}`, updatedAt: nowIso() })
      .where('id = :id', { id: accountId })
      .andWhere(`(NOT "noNegative" OR "debitsPosted" + "debitsPending" + ${amount} <= "creditsPosted")`)
      .execute();
    if (r.affected === 1) return;
    const acct = await this.getAccount(accountId); // 404 when missing
    const available = acct.creditsPosted - acct.debitsPosted - acct.debitsPending;
    throw ledgerError('ledger/insufficient_funds', `Account ${accountId} has ${available} msat available, ${amount} msat needed`, 409, {
      accountId,
      availableMsat: available,
      neededMsat: amount,
    });
  }

  /** Adds signed deltas to an account's totals (never guarded: only called where the result cannot go negative). */
  private async bump(accountId: string, deltas: Partial<Record<'debitsPosted' | 'creditsPosted' | 'debitsPending' | 'creditsPending', number>>): Promise<void> {
    const set: Record<string, unknown> = { updatedAt: nowIso() };
    for (const [col, d] of Object.entries(deltas)) {
      if (d === 0 || d === undefined) continue;
      set[col] = () => `"${col}" ${d < 0 ? '-' : '+'} ${Math.abs(d)}`;
    }
    const r = await this.m.createQueryBuilder().update(LedgerAccountEntity).set(set).where('id = :id', { id: accountId }).execute();
    if (r.affected !== 1) throw ledgerError('ledger/account_not_found', `Ledger account ${accountId} not found`, 404);
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
