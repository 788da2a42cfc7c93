import '../upgrades.css';
import type { UpgradeDetailDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatClock } from '../../../lib/time';
import { short } from '../format';
import { useCancelUpgrade, useRetryUpgrade } from '../hooks/useUpgrades';
import { DecisionForm } from './DecisionForm';
import { DiffView } from './DiffView';
import { TestOutput } from './TestOutput';

type UpgradeDetailProps = { upgrade: UpgradeDetailDto; canOperate: boolean };

/** One proposal: metadata, decision form (pending), live test output, result, the diff and the decision audit. */
export function UpgradeDetail({ upgrade: u, canOperate }: UpgradeDetailProps) {
  const retry = useRetryUpgrade();
  const cancel = useCancelUpgrade();
  return (
    <article className="upgrade-detail" data-testid="upgrade-detail" data-state={u.state}>
      <header className="upgrade-detail__head">
        <h2>{u.title}</h2>
        <StatusBadge status={u.state} testId="upgrade-state" />
      </header>
      {u.rationale && <p className="upgrade-detail__rationale">{u.rationale}</p>}
      <dl className="upgrade-meta">
        <dt>Proposed by</dt>
        <dd>{u.proposedBy} at {formatClock(u.createdAt)}</dd>
        <dt>Change</dt>
        <dd>
          {u.kind === 'branch' ? `branch ${u.branch}` : 'uploaded diff'} → {u.targetBranch} · {u.files.length} files · <span className="upgrade-added">+{u.linesAdded}</span>{' '}
          <span className="upgrade-removed">−{u.linesRemoved}</span>
        </dd>
        <dt>Commits</dt>
        <dd className="mono">
          base {short(u.baseCommit)} · head {short(u.headCommit)}
          {u.mergeCommit ? ` · merge ${short(u.mergeCommit)}` : ''}
        </dd>
        <dt>Diff sha256</dt>
        <dd className="mono" data-testid="upgrade-sha">{u.diffSha256}</dd>
        {u.expiresAt && u.state === 'proposed' && (
          <>
            <dt>Expires</dt>
            <dd>{new Date(u.expiresAt).toLocaleString()}</dd>
          </>
        )}
        {u.failureReason && (
          <>
            <dt>Failure</dt>
            <dd data-testid="upgrade-failure">
              {u.failureReason}: {u.failureMessage}
            </dd>
          </>
        )}
      </dl>
      {u.state === 'proposed' && canOperate && <DecisionForm upgrade={u} />}
      {canOperate && (
        <div className="btn-row">
          {(u.state === 'failed' || u.state === 'rolled_back') && (
            <button type="button" className="btn" disabled={retry.isPending} onClick={() => retry.mutate(u.id)} data-testid="upgrade-retry">
              Retry
            </button>
          )}
          {['proposed', 'approved', 'queued'].includes(u.state) && (
            <button type="button" className="btn btn--ghost" disabled={cancel.isPending} onClick={() => cancel.mutate(u.id)} data-testid="upgrade-cancel">
              Cancel
            </button>
          )}
        </div>
      )}
      <ErrorText error={retry.error ?? cancel.error} />
      <TestOutput upgrade={u} />
      <section aria-label="Diff">
        <h3>Diff</h3>
        {u.files.some((f) => f.binary) && <p className="muted small">Binary files (listed, not shown): {u.files.filter((f) => f.binary).map((f) => f.path).join(', ')}</p>}
        <DiffView diff={u.diff} />
      </section>
      <section aria-label="Decisions">
        <h3>Decisions</h3>
        {u.decisions.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <ul className="upgrade-decisions" data-testid="upgrade-decisions">
            {u.decisions.map((d) => (
              <li key={d.id}>
                <strong>{d.action}</strong> by {d.by} ({d.role}) at {formatClock(d.createdAt)} on <span className="mono">{short(d.diffSha256)}</span>
                {d.action === 'approve' && !d.active ? ' (dismissed)' : ''}
                {d.comment ? `: ${d.comment}` : ''}
              </li>
            ))}
          </ul>
        )}
      </section>
    </article>
  );
}
