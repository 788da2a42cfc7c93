import type { UpgradeDecisionDto, UpgradeDto, UpgradeFileDto } from '@app/contracts';
import type { UpgradeDecisionEntity } from './entities/upgrade-decision.entity';
import type { UpgradeEntity } from './entities/upgrade.entity';

/** Row -> wire shape (without the diff); `approvals` = active approvals on the current hash. */
export function toUpgradeDto(row: UpgradeEntity, approvals: number): UpgradeDto {
  return {
    id: row.id,
    state: row.state,
    phase: row.phase,
    kind: row.kind,
    title: row.title,
    rationale: row.rationale,
    branch: row.branch,
    proposedByAgentId: row.proposedByAgentId,
    proposedBy: row.proposedBy,
    targetBranch: row.targetBranch,
    baseCommit: row.baseCommit,
    headCommit: row.headCommit,
    diffSha256: row.diffSha256,
    files: JSON.parse(row.files) as UpgradeFileDto[],
    linesAdded: row.linesAdded,
    linesRemoved: row.linesRemoved,
    requiresAdmin: row.requiresAdmin,
    requiredApprovals: row.requiredApprovals,
    approvals,
    expiresAt: row.expiresAt,
    queuePosition: row.queuePosition,
    attempt: row.attempt,
    testedOnCommit: row.testedOnCommit,
    mergeCommit: row.mergeCommit,
    previousHead: row.previousHead,
    exitCode: row.exitCode,
    failureReason: row.failureReason,
    failureMessage: row.failureMessage,
    conflicts: JSON.parse(row.conflicts) as string[],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    testStartedAt: row.testStartedAt,
    finishedAt: row.finishedAt,
  };
}

export function toDecisionDto(d: UpgradeDecisionEntity): UpgradeDecisionDto {
  return {
    id: d.id,
    action: d.action,
    by: d.by,
    role: d.role,
    diffSha256: d.diffSha256,
    comment: d.comment,
    active: d.active,
    createdAt: d.createdAt,
  };
}

/** Event source of an upgrade event: the acting agent or user, else the queue itself. */
export function upgradeSource(by: { agentId: string | null; username: string | null } | null): string {
  if (by?.agentId) return `agent:${by.agentId}`;
  if (by?.username) return `user:${by.username}`;
  return 'upgrade-queue';
}
