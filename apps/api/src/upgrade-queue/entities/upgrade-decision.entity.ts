import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { UpgradeDecisionDto } from '@app/contracts';

/**
 * Audit trail of an upgrade (`upgrade_decisions`): every approve, reject, cancel, retry, dismissal and expiry, with who,
 * when and the diff sha256 it was made on. Approvals stay `active` until dismissed (diff changed) or consumed by a retry.
 */
@Entity({ name: 'upgrade_decisions' })
@Index('IDX_upgrade_decisions_upgrade', ['upgradeId', 'createdAt'])
export class UpgradeDecisionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) upgradeId: string;
  @Column({ type: 'varchar', length: 16 }) action: UpgradeDecisionDto['action'];
  @Column({ type: 'varchar', length: 100 }) by: string;
  @Column({ type: 'varchar', length: 16 }) role: string;
  @Column({ type: 'varchar', length: 64 }) diffSha256: string;
  @Column({ type: 'text', nullable: true }) comment: string | null;
  @Column({ type: 'boolean' }) active: boolean;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
}
