import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  UPGRADE_STATES,
  type UpgradeConfigDto,
  type UpgradeDecisionDto,
  type UpgradeDetailDto,
  type UpgradeDto,
  type UpgradeFailureReason,
  type UpgradeFileDto,
  type UpgradeKind,
  type UpgradeListDto,
  type UpgradeLogsDto,
  type UpgradePhase,
  type UpgradeState,
} from '@app/contracts';

/** Swagger shapes of the `/api/upgrades` responses (the wire types are in `@app/contracts`). */
export class UpgradeFileResponseDto implements UpgradeFileDto {
  @ApiProperty() path: string;
  @ApiProperty({ nullable: true, type: String }) oldPath: string | null;
  @ApiProperty({ enum: ['added', 'modified', 'deleted', 'renamed'] }) status: UpgradeFileDto['status'];
  @ApiProperty() added: number;
  @ApiProperty() removed: number;
  @ApiProperty({ description: 'Binary files are listed, never shown' }) binary: boolean;
  @ApiProperty({ description: 'Matches UPGRADE_PROTECTED_PATHS (approval needs an admin)' }) protected: boolean;
}

export class UpgradeDecisionResponseDto implements UpgradeDecisionDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['approve', 'reject', 'cancel', 'retry', 'dismiss', 'expire'] }) action: UpgradeDecisionDto['action'];
  @ApiProperty({ description: 'Username, agent id or `system`' }) by: string;
  @ApiProperty() role: string;
  @ApiProperty({ description: 'sha256 of the diff the decision was made on' }) diffSha256: string;
  @ApiProperty({ nullable: true, type: String }) comment: string | null;
  @ApiProperty({ description: 'Approvals: false once dismissed' }) active: boolean;
  @ApiProperty() createdAt: string;
}

export class UpgradeResponseDto implements UpgradeDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: UPGRADE_STATES }) state: UpgradeState;
  @ApiProperty({ nullable: true, enum: ['merging', 'testing', 'fast_forwarding', 'health_check', 'rolling_back'] }) phase: UpgradePhase | null;
  @ApiProperty({ enum: ['branch', 'diff'] }) kind: UpgradeKind;
  @ApiProperty() title: string;
  @ApiProperty() rationale: string;
  @ApiProperty({ nullable: true, type: String }) branch: string | null;
  @ApiProperty({ nullable: true, type: String }) proposedByAgentId: string | null;
  @ApiProperty() proposedBy: string;
  @ApiProperty() targetBranch: string;
  @ApiProperty({ description: 'Merge-base with the target (diff proposals: the head it was applied to)' }) baseCommit: string;
  @ApiProperty() headCommit: string;
  @ApiProperty({ description: 'sha256 hex of `diff`; approvals are bound to it' }) diffSha256: string;
  @ApiProperty({ type: [UpgradeFileResponseDto] }) files: UpgradeFileDto[];
  @ApiProperty() linesAdded: number;
  @ApiProperty() linesRemoved: number;
  @ApiProperty() requiresAdmin: boolean;
  @ApiProperty() requiredApprovals: number;
  @ApiProperty({ description: 'Active approvals on the current hash' }) approvals: number;
  @ApiProperty({ nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ nullable: true, type: Number }) queuePosition: number | null;
  @ApiProperty() attempt: number;
  @ApiProperty({ nullable: true, type: String }) testedOnCommit: string | null;
  @ApiProperty({ nullable: true, type: String }) mergeCommit: string | null;
  @ApiProperty({ nullable: true, type: String }) previousHead: string | null;
  @ApiProperty({ nullable: true, type: Number }) exitCode: number | null;
  @ApiProperty({ nullable: true, enum: ['conflict', 'tests_failed', 'test_timeout', 'crashed', 'git_error', 'head_moved_too_often'] }) failureReason: UpgradeFailureReason | null;
  @ApiProperty({ nullable: true, type: String }) failureMessage: string | null;
  @ApiProperty({ type: [String] }) conflicts: string[];
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ nullable: true, type: String }) testStartedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) finishedAt: string | null;
}

export class UpgradeDetailResponseDto extends UpgradeResponseDto implements UpgradeDetailDto {
  @ApiProperty({ description: 'Unified diff merge-base..head' }) diff: string;
  @ApiProperty({ type: [UpgradeDecisionResponseDto] }) decisions: UpgradeDecisionDto[];
}

export class UpgradeListResponseDto implements UpgradeListDto {
  @ApiProperty({ type: [UpgradeResponseDto] }) items: UpgradeDto[];
  @ApiProperty({ description: 'Proposals waiting for a decision (nav badge)' }) pending: number;
  @ApiProperty() headSeq: number;
  @ApiProperty() epoch: string;
}

export class UpgradeLogsResponseDto implements UpgradeLogsDto {
  @ApiProperty() id: string;
  @ApiProperty() attempt: number;
  @ApiProperty() testOutput: string;
  @ApiProperty() testOutputTruncated: boolean;
  @ApiProperty() healthOutput: string;
  @ApiProperty({ nullable: true, type: Number }) exitCode: number | null;
  @ApiProperty() headSeq: number;
}

export class UpgradeConfigResponseDto implements UpgradeConfigDto {
  @ApiProperty() enabled: boolean;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'How to turn the queue on when it is off' }) hint: string | null;
  @ApiProperty({ nullable: true, type: String }) repoPath: string | null;
  @ApiProperty() targetBranch: string;
  @ApiProperty({ nullable: true, type: String }) testCommand: string | null;
  @ApiProperty({ nullable: true, type: String }) healthCommand: string | null;
  @ApiProperty() testTimeoutMs: number;
  @ApiProperty() healthTimeoutMs: number;
  @ApiProperty() outputLimitBytes: number;
  @ApiProperty() maxDiffLines: number;
  @ApiProperty() maxDiffBytes: number;
  @ApiProperty({ type: [String] }) protectedPaths: string[];
  @ApiProperty() requiredApprovals: number;
  @ApiProperty() proposalTtlMs: number;
}
