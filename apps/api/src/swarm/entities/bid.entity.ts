import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One agent's bid in one task's auction (`bids`); amounts in sats. */
@Entity({ name: 'bids' })
export class BidEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) taskId: string;
  @Column({ type: 'varchar', length: 64 }) agentId: string;
  @Column({ type: 'integer' }) bidSats: number;
  @Column({ type: 'boolean', default: false }) won: boolean;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
