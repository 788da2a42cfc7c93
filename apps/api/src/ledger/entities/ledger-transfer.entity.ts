import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { LedgerTransferKind } from '@app/contracts';
import { msatColumn } from './ledger-account.entity';

/**
 * An immutable transfer (`ledger_transfers`), never updated or deleted. `single` moves funds at once; `pending`
 * holds them (debits/credits pending); `post` (amount <= the pending amount), `void` and `expire` resolve a pending
 * transfer named by `pendingId`, which is unique: a hold is resolved at most once.
 */
@Entity({ name: 'ledger_transfers' })
export class LedgerTransferEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 8 }) kind: LedgerTransferKind;
  @Column({ type: 'varchar', length: 80 }) debitAccountId: string;
  @Column({ type: 'varchar', length: 80 }) creditAccountId: string;
  @Column({ type: 'bigint', transformer: msatColumn }) amountMsat: number;
  @Column({ type: 'varchar', length: 64, nullable: true }) pendingId: string | null;
  /** Pending transfers only: when the hold expires on its own (ISO). */
  @Column({ type: 'varchar', length: 30, nullable: true }) timeoutAt: string | null;
  /** What the money is for: `invoice`, `payment`, `fee`, `task_payout`, `transfer`. */
  @Column({ type: 'varchar', length: 32 }) purpose: string;
  /** payment_hash or task id the transfer belongs to. */
  @Column({ type: 'varchar', length: 128, nullable: true }) ref: string | null;
  @Column({ type: 'varchar', length: 160, nullable: true }) idempotencyKey: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
}
