import { AppError } from '../common/app-error';

/** Stable error codes of the upgrade queue. */
export type UpgradeErrorCode =
  | 'upgrade/disabled'
  | 'upgrade/not_found'
  | 'upgrade/invalid_ref'
  | 'upgrade/unknown_branch'
  | 'upgrade/no_common_history'
  | 'upgrade/empty_change'
  | 'upgrade/diff_does_not_apply'
  | 'upgrade/too_many_lines'
  | 'upgrade/invalid_transition'
  | 'upgrade/own_proposal'
  | 'upgrade/already_approved'
  | 'upgrade/stale_hash'
  | 'upgrade/admin_required'
  | 'upgrade/not_proposer';

/** Builds an AppError with an upgrade-queue code. */
export function upgradeError(code: UpgradeErrorCode, message: string, status: number, details?: unknown): AppError {
  return new AppError(code, message, status, details);
}
