import { Column, Entity, PrimaryColumn } from 'typeorm';
import { msatColumn } from '../entities/ledger-account.entity';

/**
 * One redeemed L402 token (table `ledger_l402_redemptions`): the replay guard. A token buys one call of its service
 * (pay per use); the row is inserted when the call is admitted and deleted again if the route then refuses the
 * request, so a paid token is never lost to a 4xx/5xx. The primary key (payment_hash) makes redemption exactly-once
 * across instances on one database. Holds no secret (no macaroon, no preimage).
 */
@Entity({ name: 'ledger_l402_redemptions' })
export class L402RedemptionEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) paymentHash: string;
  /** Random id of the token (identifier bytes 34..66), hex. */
  @Column({ type: 'varchar', length: 64 }) tokenId: string;
  @Column({ type: 'varchar', length: 32 }) service: string;
  /** What the token paid, msat. */
  @Column({ type: 'bigint', transformer: msatColumn }) amountMsat: number;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
