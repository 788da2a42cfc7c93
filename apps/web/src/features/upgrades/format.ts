import type { UpgradeDto } from '@app/contracts';

/** Duration of a proposal's last run (`testStartedAt` to `finishedAt`, or to now while running), e.g. `12.3 s`, `4 min`. */
export function runDuration(u: UpgradeDto, now = Date.now()): string {
  if (!u.testStartedAt) return '';
  const end = u.finishedAt && u.finishedAt >= u.testStartedAt ? Date.parse(u.finishedAt) : now;
  const ms = Math.max(0, end - Date.parse(u.testStartedAt));
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Short commit id. */
export const short = (sha: string | null | undefined) => (sha ? sha.slice(0, 10) : '–');
