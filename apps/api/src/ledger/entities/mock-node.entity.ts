import { Column, Entity, PrimaryColumn } from 'typeorm';
import { msatColumn, nullableMsatColumn } from './ledger-account.entity';

/** Keys of the mock Lightning node (`local` = ours, `remote` = a simulated peer), generated on first start. */
@Entity({ name: 'ledger_mock_node' })
export class MockNodeKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 }) name: string;
  /** secp256k1 private key, hex (a dev-only mock node: never used with real funds). */
  @Column({ type: 'varchar', length: 64 }) privateKey: string;
  @Column({ type: 'varchar', length: 66 }) publicKey: string;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
}

/** An invoice issued by the mock node (`local`) or by its simulated remote peer (`remote`). */
@Entity({ name: 'ledger_mock_invoices' })
export class MockInvoiceEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) paymentHash: string;
  @Column({ type: 'varchar', length: 8 }) origin: 'local' | 'remote';
  @Column({ type: 'varchar', length: 64 }) preimage: string;
  @Column({ type: 'text' }) bolt11: string;
  @Column({ type: 'bigint', nullable: true, transformer: nullableMsatColumn }) amountMsat: number | null;
  @Column({ type: 'varchar', length: 10 }) state: 'open' | 'settled' | 'canceled';
  /** Remote invoices: what happens when we pay it (`succeed`, `fail`, `in_flight`). */
  @Column({ type: 'varchar', length: 10 }) outcome: 'succeed' | 'fail' | 'in_flight';
  @Column({ type: 'varchar', length: 64, nullable: true }) outcomeReason: string | null;
  /** Routing fee the simulated payment costs (msat). */
  @Column({ type: 'bigint', transformer: msatColumn }) feeMsat: number;
  @Column({ type: 'varchar', length: 30 }) expiresAt: string;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) settledAt: string | null;
}

/** A payment the mock node sent, by payment_hash (kept so its outcome survives a restart). */
@Entity({ name: 'ledger_mock_payments' })
export class MockPaymentEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) paymentHash: string;
  @Column({ type: 'varchar', length: 10 }) status: 'in_flight' | 'succeeded' | 'failed';
  @Column({ type: 'bigint', transformer: msatColumn }) amountMsat: number;
  @Column({ type: 'bigint', transformer: msatColumn }) feeMsat: number;
  @Column({ type: 'varchar', length: 64, nullable: true }) preimage: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) failureReason: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
