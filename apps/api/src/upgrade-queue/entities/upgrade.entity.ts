import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { UpgradeFailureReason, UpgradeKind, UpgradePhase, UpgradeState } from '@app/contracts';

/** pg returns bigint as string; sqlite as number. */
const bigintOrNull = { to: (v: number | null) => v, from: (v: string | number | null) => (v === null ? null : Number(v)) };

/**
 * One upgrade proposal (`upgrades`). `files` and `conflicts` are JSON text. `claimedBy` / `leaseUntilMs` are the
 * cross-instance claim of a running proposal (conditional UPDATE; renewed while it runs). Times are ISO-8601 UTC
 * except `leaseUntilMs` (epoch ms).
 */
@Entity({ name: 'upgrades' })
@Index('IDX_upgrades_state', ['state'])
@Index('IDX_upgrades_queue', ['state', 'queuePosition'])
export class UpgradeEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 16 }) state: UpgradeState;
  @Column({ type: 'varchar', length: 16, nullable: true }) phase: UpgradePhase | null;
  @Column({ type: 'varchar', length: 8 }) kind: UpgradeKind;
  @Column({ type: 'varchar', length: 200 }) title: string;
  @Column({ type: 'text' }) rationale: string;
  @Column({ type: 'varchar', length: 255, nullable: true }) branch: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) proposedByAgentId: string | null;
  @Column({ type: 'varchar', length: 100 }) proposedBy: string;
  @Column({ type: 'varchar', length: 255 }) targetBranch: string;
  @Column({ type: 'varchar', length: 64 }) baseCommit: string;
  @Column({ type: 'varchar', length: 64 }) headCommit: string;
  @Column({ type: 'varchar', length: 64 }) diffSha256: string;
  @Column({ type: 'text' }) diff: string;
  @Column({ type: 'text' }) files: string;
  @Column({ type: 'integer' }) linesAdded: number;
  @Column({ type: 'integer' }) linesRemoved: number;
  @Column({ type: 'boolean' }) requiresAdmin: boolean;
  @Column({ type: 'integer' }) requiredApprovals: number;
  @Column({ type: 'varchar', length: 30, nullable: true }) expiresAt: string | null;
  @Column({ type: 'bigint', nullable: true, transformer: bigintOrNull }) queuePosition: number | null;
  @Column({ type: 'integer' }) attempt: number;
  @Column({ type: 'varchar', length: 100, nullable: true }) claimedBy: string | null;
  @Column({ type: 'bigint', nullable: true, transformer: bigintOrNull }) leaseUntilMs: number | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) testedOnCommit: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) mergeCommit: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) previousHead: string | null;
  @Column({ type: 'text' }) testOutput: string;
  @Column({ type: 'boolean' }) testOutputTruncated: boolean;
  @Column({ type: 'text' }) healthOutput: string;
  @Column({ type: 'integer', nullable: true }) exitCode: number | null;
  @Column({ type: 'varchar', length: 32, nullable: true }) failureReason: UpgradeFailureReason | null;
  @Column({ type: 'text', nullable: true }) failureMessage: string | null;
  @Column({ type: 'text' }) conflicts: string;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) testStartedAt: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) finishedAt: string | null;
}
