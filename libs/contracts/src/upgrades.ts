/**
 * Upgrade-queue wire types (module `upgrade-queue`, REST `/api/upgrades`, channel `upgrades`).
 *
 * A proposal is a branch of the configured target repository or a unified diff uploaded by an agent. Its life:
 * `proposed -> approved | rejected | expired | cancelled`, `approved -> queued -> testing -> applied | failed`,
 * `applied -> rolled_back` (post-apply health check red). Every transition is an `upgrade.*` event with who and why.
 */
import type { EventSpecs } from './event-spec';

export const UPGRADE_STATES = [
  'proposed',
  'approved',
  'rejected',
  'expired',
  'cancelled',
  'queued',
  'testing',
  'applied',
  'failed',
  'rolled_back',
] as const;
export type UpgradeState = (typeof UPGRADE_STATES)[number];

/** States a proposal never leaves (retry of `failed` / `rolled_back` makes a new attempt of the same row). */
export const FINAL_UPGRADE_STATES: readonly UpgradeState[] = ['rejected', 'expired', 'cancelled', 'applied', 'failed', 'rolled_back'];

export type UpgradeKind = 'branch' | 'diff';

/** Step of a `testing` proposal (persisted, so a restart knows what was in flight). */
export type UpgradePhase = 'merging' | 'testing' | 'fast_forwarding' | 'health_check' | 'rolling_back';

/** Why a proposal failed. */
export type UpgradeFailureReason =
  | 'conflict'
  | 'tests_failed'
  | 'test_timeout'
  | 'crashed'
  | 'git_error'
  | 'head_moved_too_often';

export interface UpgradeFileDto {
  path: string;
  /** Old path of a rename. */
  oldPath: string | null;
  status: 'added' | 'modified' | 'deleted' | 'renamed';
  added: number;
  removed: number;
  /** Binary files are listed, never shown (their lines count 0). */
  binary: boolean;
  /** Matches one of `UPGRADE_PROTECTED_PATHS`: approving needs an admin. */
  protected: boolean;
}

/** One decision of the audit trail (every approve, reject, cancel, retry, dismissal, expiry). */
export interface UpgradeDecisionDto {
  id: string;
  action: 'approve' | 'reject' | 'cancel' | 'retry' | 'dismiss' | 'expire';
  /** Username, agent id, or `system` for dismissals and expiry. */
  by: string;
  role: string;
  /** The diff sha256 the decision was made on. */
  diffSha256: string;
  comment: string | null;
  /** Approvals only: false once dismissed (the diff changed) or consumed by a retry. */
  active: boolean;
  createdAt: string;
}

export interface UpgradeDto {
  id: string;
  state: UpgradeState;
  phase: UpgradePhase | null;
  kind: UpgradeKind;
  title: string;
  rationale: string;
  /** Branch of a branch proposal; null for a diff. */
  branch: string | null;
  /** Proposing agent (null when an operator proposed through REST). */
  proposedByAgentId: string | null;
  proposedBy: string;
  targetBranch: string;
  /** Merge-base with the target (diff proposals: the target head the diff was applied to). */
  baseCommit: string;
  headCommit: string;
  /** sha256 (hex) of the stored diff text; approvals are bound to it. */
  diffSha256: string;
  files: UpgradeFileDto[];
  linesAdded: number;
  linesRemoved: number;
  /** True when a file matches a protected path (approval needs an admin). */
  requiresAdmin: boolean;
  requiredApprovals: number;
  approvals: number;
  expiresAt: string | null;
  /** Order in the queue (smaller first); null before queued. */
  queuePosition: number | null;
  /** Test runs so far (re-test after the target moved or a restart counts). */
  attempt: number;
  /** Target head the last test ran on. */
  testedOnCommit: string | null;
  /** The merge commit tested (and applied, when applied). */
  mergeCommit: string | null;
  /** Target head before apply (what a rollback returns to). */
  previousHead: string | null;
  exitCode: number | null;
  failureReason: UpgradeFailureReason | null;
  failureMessage: string | null;
  conflicts: string[];
  createdAt: string;
  updatedAt: string;
  testStartedAt: string | null;
  finishedAt: string | null;
}

export interface UpgradeDetailDto extends UpgradeDto {
  /** Unified diff merge-base..head (binary files appear as "Binary files ... differ"). */
  diff: string;
  decisions: UpgradeDecisionDto[];
}

export interface UpgradeLogsDto {
  id: string;
  attempt: number;
  /** Test command output (stdout and stderr interleaved), capped at `UPGRADE_OUTPUT_LIMIT_BYTES`. */
  testOutput: string;
  testOutputTruncated: boolean;
  healthOutput: string;
  exitCode: number | null;
  headSeq: number;
}

export interface UpgradeListDto {
  items: UpgradeDto[];
  /** Proposals waiting for a decision (`proposed`): the nav badge. */
  pending: number;
  headSeq: number;
  epoch: string;
}

export interface UpgradeConfigDto {
  enabled: boolean;
  /** How to turn the queue on when it is off. */
  hint: string | null;
  repoPath: string | null;
  targetBranch: string;
  testCommand: string | null;
  healthCommand: string | null;
  testTimeoutMs: number;
  healthTimeoutMs: number;
  outputLimitBytes: number;
  maxDiffLines: number;
  maxDiffBytes: number;
  protectedPaths: string[];
  requiredApprovals: number;
  proposalTtlMs: number;
}

export interface ProposeBranchRequest {
  title: string;
  rationale?: string;
  branch: string;
}

export interface ProposeDiffRequest {
  title: string;
  rationale?: string;
  /** Unified diff (`git diff` / `diff -u` format) against the target branch's current head. */
  diff: string;
}

export interface UpgradeDecisionRequest {
  comment?: string;
  /** The diff sha256 the reviewer looked at; a different current hash is refused (409 `upgrade/stale_hash`). */
  diffSha256?: string;
}

/* ------------------------------------------------------------------ events ----------------------------------- */

interface UpgradeRef {
  upgradeId: string;
  title: string;
}

/** `upgrade.*` event payloads (type -> data). Every one carries `upgradeId`; transitions carry `by` and `from`. */
export interface UpgradeEventDataMap {
  'upgrade.proposed': UpgradeRef & {
    kind: UpgradeKind;
    branch: string | null;
    baseCommit: string;
    headCommit: string;
    diffSha256: string;
    files: number;
    linesAdded: number;
    linesRemoved: number;
    requiresAdmin: boolean;
    by: string;
  };
  /** hyperhive "approval added": a decision now waits for an operator (at propose, and after a dismissal). */
  'upgrade.approval_added': UpgradeRef & { diffSha256: string; requiredApprovals: number; expiresAt: string | null; requiresAdmin: boolean };
  /** hyperhive "approval resolved": the wait ended. */
  'upgrade.approval_resolved': UpgradeRef & {
    outcome: 'approved' | 'rejected' | 'expired' | 'cancelled' | 'dismissed';
    by: string;
    diffSha256: string;
  };
  /** One reviewer's approval (more may be required). */
  'upgrade.approval_recorded': UpgradeRef & { by: string; diffSha256: string; comment: string | null; approvals: number; requiredApprovals: number };
  'upgrade.approved': UpgradeRef & { by: string; diffSha256: string; approvals: number; from: UpgradeState };
  'upgrade.rejected': UpgradeRef & { by: string; diffSha256: string; comment: string | null; from: UpgradeState };
  'upgrade.expired': UpgradeRef & { expiresAt: string; from: UpgradeState };
  'upgrade.cancelled': UpgradeRef & { by: string; comment: string | null; from: UpgradeState };
  /** The branch moved: approvals bound to the old hash are dismissed and the proposal is back to `proposed`. */
  'upgrade.approval_dismissed': UpgradeRef & { oldSha256: string; newSha256: string; oldHead: string; newHead: string; dismissed: number; from: UpgradeState };
  'upgrade.queued': UpgradeRef & { position: number; from: UpgradeState; by: string };
  'upgrade.testing': UpgradeRef & { attempt: number; targetHead: string; mergeCommit: string | null; reason: string; from: UpgradeState };
  /** A chunk of test output (coalesced, in order; `offset` = bytes of output before this chunk). */
  'upgrade.test_output': { upgradeId: string; attempt: number; offset: number; chunk: string; truncated: boolean };
  'upgrade.applied': UpgradeRef & { previousHead: string; newHead: string; attempt: number; durationMs: number; healthExitCode: number | null };
  'upgrade.failed': UpgradeRef & {
    reason: UpgradeFailureReason;
    message: string;
    exitCode: number | null;
    conflicts: string[];
    attempt: number;
    from: UpgradeState;
  };
  'upgrade.rolled_back': UpgradeRef & { from: string; to: string; healthExitCode: number | null; output: string };
  'upgrade.retried': UpgradeRef & { by: string; from: UpgradeState };
}

export type UpgradeEventType = keyof UpgradeEventDataMap;

/** Channel routing of the upgrade queue's event types (decisions waiting/resolved go to the phone digest too). */
export const UPGRADE_EVENT_SPECS = {
  'upgrade.proposed': { channel: 'upgrades', mobile: false },
  'upgrade.approval_added': { channel: 'upgrades', mobile: true },
  'upgrade.approval_resolved': { channel: 'upgrades', mobile: true },
  'upgrade.approval_recorded': { channel: 'upgrades', mobile: false },
  'upgrade.approved': { channel: 'upgrades', mobile: false },
  'upgrade.rejected': { channel: 'upgrades', mobile: false },
  'upgrade.expired': { channel: 'upgrades', mobile: false },
  'upgrade.cancelled': { channel: 'upgrades', mobile: false },
  'upgrade.approval_dismissed': { channel: 'upgrades', mobile: false },
  'upgrade.queued': { channel: 'upgrades', mobile: false },
  'upgrade.testing': { channel: 'upgrades', mobile: false },
  'upgrade.test_output': { channel: 'upgrades', mobile: false },
  'upgrade.applied': { channel: 'upgrades', mobile: true },
  'upgrade.failed': { channel: 'upgrades', mobile: true },
  'upgrade.rolled_back': { channel: 'upgrades', mobile: true },
  'upgrade.retried': { channel: 'upgrades', mobile: false },
} as const satisfies EventSpecs<UpgradeEventDataMap>;

export const UPGRADE_EVENT_TYPES = Object.keys(UPGRADE_EVENT_SPECS) as UpgradeEventType[];
