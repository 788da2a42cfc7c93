import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { LedgerTransactionStatus, LedgerTransactionType } from '@app/contracts';
import { msatColumn } from './ledger-account.entity';

/**
 * ADR-018's transaction view (`ledger_transactions`): one Lightning invoice (incoming) or payment (outgoing) with
 * its status. Unique per (type, paymentHash): an invoice is recorded once and a payment_hash is paid at most once.
 * The money itself moves in `ledger_transfers` (`holdTransferId` is the pending transfer of this transaction).
 */
@Entity({ name: 'ledger_transactions' })
export class LedgerTransactionEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 10 }) type: LedgerTransactionType;
  @Column({ type: 'varchar', length: 10 }) status: LedgerTransactionStatus;
  @Column({ type: 'varchar', length: 64 }) paymentHash: string;
  @Column({ type: 'text' }) bolt11: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) preimage: string | null;
  @Column({ type: 'bigint', transformer: msatColumn }) amountMsat: number;
  @Column({ type: 'bigint', transformer: msatColumn }) feeMsat: number;
  @Column({ type: 'bigint', transformer: msatColumn }) maxFeeMsat: number;
  @Column({ type: 'varchar', length: 640 }) memo: string;
  @Column({ type: 'varchar', length: 80 }) accountId: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) taskId: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) agentId: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) holdTransferId: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) expiresAt: string | null;
  @Column({ type: 'varchar', length: 300, nullable: true }) failureReason: string | null;
  @Column({ type: 'varchar', length: 160, nullable: true }) idempotencyKey: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) settledAt: string | null;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
