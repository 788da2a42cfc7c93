import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { UpgradeConfigDto } from '@app/contracts';
import type { AppConfig } from '../config/app-config';

/** The upgrade queue's settings, read once from the validated env (see `.env.example`). Times in ms, sizes in bytes. */
export interface UpgradeQueueConfig {
  enabled: boolean;
  /** Why the queue is off and how to turn it on; null when on. */
  hint: string | null;
  repoPath: string | null;
  targetBranch: string;
  testCommand: string | null;
  healthCommand: string | null;
  testTimeoutMs: number;
  healthTimeoutMs: number;
  outputLimitBytes: number;
  protectedPaths: string[];
  requiredApprovals: number;
  proposalTtlMs: number;
  maxDiffLines: number;
  maxDiffBytes: number;
  worktreeDir: string;
  pollMs: number;
  leaseMs: number;
  faultPoint: '' | 'before_ff' | 'after_ff';
  faultDelayMs: number;
}

/** Builds the queue config; `enabled` needs both UPGRADE_REPO_PATH and UPGRADE_TEST_COMMAND. */
export function upgradeQueueConfig(c: AppConfig): UpgradeQueueConfig {
  const repoPath = c.UPGRADE_REPO_PATH ? (isAbsolute(c.UPGRADE_REPO_PATH) ? c.UPGRADE_REPO_PATH : resolve(c.UPGRADE_REPO_PATH)) : null;
  const testCommand = c.UPGRADE_TEST_COMMAND?.trim() || null;
  const hint = !repoPath
    ? 'The upgrade queue is off: set UPGRADE_REPO_PATH to the git repository agents may change and UPGRADE_TEST_COMMAND to the command that must pass (exit code 0), then restart.'
    : !testCommand
      ? 'The upgrade queue is off: set UPGRADE_TEST_COMMAND (run in an isolated worktree, exit code 0 = pass), then restart.'
      : null;
  return {
    enabled: hint === null,
    hint,
    repoPath,
    targetBranch: c.UPGRADE_TARGET_BRANCH,
    testCommand,
    healthCommand: c.UPGRADE_HEALTH_COMMAND?.trim() || null,
    testTimeoutMs: c.UPGRADE_TEST_TIMEOUT_MS,
    healthTimeoutMs: c.UPGRADE_HEALTH_TIMEOUT_MS,
    outputLimitBytes: c.UPGRADE_OUTPUT_LIMIT_BYTES,
    protectedPaths: c.UPGRADE_PROTECTED_PATHS.split(',').map((p) => p.trim()).filter(Boolean),
    requiredApprovals: c.UPGRADE_REQUIRED_APPROVALS,
    proposalTtlMs: c.UPGRADE_PROPOSAL_TTL_MS,
    maxDiffLines: c.UPGRADE_MAX_DIFF_LINES,
    maxDiffBytes: c.UPGRADE_MAX_DIFF_BYTES,
    worktreeDir: c.UPGRADE_WORKTREE_DIR || join(tmpdir(), 'mc-upgrade-worktrees'),
    pollMs: c.UPGRADE_POLL_MS,
    leaseMs: c.UPGRADE_LEASE_MS,
    faultPoint: c.UPGRADE_FAULT_POINT,
    faultDelayMs: c.UPGRADE_FAULT_DELAY_MS,
  };
}

/** The public view of the config (`GET /api/upgrades/config`). */
export function toConfigDto(c: UpgradeQueueConfig): UpgradeConfigDto {
  return {
    enabled: c.enabled,
    hint: c.hint,
    repoPath: c.repoPath,
    targetBranch: c.targetBranch,
    testCommand: c.testCommand,
    healthCommand: c.healthCommand,
    testTimeoutMs: c.testTimeoutMs,
    healthTimeoutMs: c.healthTimeoutMs,
    outputLimitBytes: c.outputLimitBytes,
    maxDiffLines: c.maxDiffLines,
    maxDiffBytes: c.maxDiffBytes,
    protectedPaths: c.protectedPaths,
    requiredApprovals: c.requiredApprovals,
    proposalTtlMs: c.proposalTtlMs,
  };
}

/** True when `path` (repo-relative, `/`-separated) falls under one of the protected prefixes. */
export function isProtectedPath(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => (p.endsWith('/') ? path.startsWith(p) || path === p.slice(0, -1) : path === p || path.startsWith(`${p}/`)));
}
