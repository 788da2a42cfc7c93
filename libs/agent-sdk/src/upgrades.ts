import { FINAL_UPGRADE_STATES, type UpgradeDetailDto } from '@app/contracts';
import { AgentSdkError, RestClient, queryString } from './rest';

/** What an agent proposes: a branch of the upgrade repository, or a unified diff against its target head. */
export type ProposeUpgradeRequest = { title: string; rationale?: string; branch: string } | { title: string; rationale?: string; diff: string };

/** Diffs up to this many bytes go as JSON; larger ones as a raw `text/x-diff` body (the API's JSON limit is 256 KiB). */
export const JSON_DIFF_MAX_BYTES = 200 * 1024;

/**
 * Proposes an upgrade: `POST /api/upgrades/branch`, or `POST /api/upgrades/diff` (JSON) / `POST /api/upgrades/diff/raw`
 * (`text/x-diff`, for diffs over {@link JSON_DIFF_MAX_BYTES}). Resolves with the proposal (state `proposed`, its diff,
 * `diffSha256`, files and line counts).
 * @throws AgentSdkError `sdk/bad_request` (400) when neither or both of branch/diff are given; the server's errors:
 *   400 `upgrade/invalid_ref`, `upgrade/unknown_branch`, `upgrade/diff_does_not_apply`, `upgrade/too_many_lines`,
 *   `upgrade/empty_change`; 413 for a diff over the server's limit; 503 `upgrade/disabled` (queue off: the message says how to turn it on).
 */
export async function proposeUpgrade(rest: RestClient, req: ProposeUpgradeRequest): Promise<UpgradeDetailDto> {
  const hasBranch = 'branch' in req && typeof req.branch === 'string';
  const hasDiff = 'diff' in req && typeof req.diff === 'string';
  if (hasBranch === hasDiff) throw new AgentSdkError(400, 'sdk/bad_request', 'pass exactly one of branch or diff');
  if ('branch' in req) return rest.post<UpgradeDetailDto>('/api/upgrades/branch', { title: req.title, rationale: req.rationale, branch: req.branch });
  if (Buffer.byteLength(req.diff) <= JSON_DIFF_MAX_BYTES) {
    return rest.post<UpgradeDetailDto>('/api/upgrades/diff', { title: req.title, rationale: req.rationale, diff: req.diff });
  }
  return rest.postText<UpgradeDetailDto>(`/api/upgrades/diff/raw${queryString({ title: req.title, rationale: req.rationale })}`, req.diff, 'text/x-diff');
}

/** `GET /api/upgrades/:id` (with diff and decisions). @throws AgentSdkError 404 `upgrade/not_found`. */
export function getUpgrade(rest: RestClient, id: string): Promise<UpgradeDetailDto> {
  return rest.get<UpgradeDetailDto>(`/api/upgrades/${encodeURIComponent(id)}`);
}

/**
 * Polls `GET /api/upgrades/:id` every `intervalMs` (default 1,000) until it reaches a final state (applied, failed,
 * rolled_back, rejected, expired, cancelled) and returns it.
 * @throws AgentSdkError `sdk/timeout` (0) after `timeoutMs` (default 10 min); the server's errors.
 */
export async function waitForUpgrade(rest: RestClient, id: string, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<UpgradeDetailDto> {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  for (;;) {
    const up = await getUpgrade(rest, id);
    if (FINAL_UPGRADE_STATES.includes(up.state)) return up;
    if (Date.now() > deadline) throw new AgentSdkError(0, 'sdk/timeout', `upgrade ${id} still ${up.state} after ${opts.timeoutMs ?? 600_000} ms`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
}
