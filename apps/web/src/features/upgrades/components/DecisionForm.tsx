import { useState } from 'react';
import type { UpgradeDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { useApproveUpgrade, useRejectUpgrade } from '../hooks/useUpgrades';

type DecisionFormProps = { upgrade: UpgradeDto; touch?: boolean };

/** Approve / reject with an optional comment, bound to the diff hash on screen (a changed diff is refused). */
export function DecisionForm({ upgrade: u, touch = false }: DecisionFormProps) {
  const [comment, setComment] = useState('');
  const approve = useApproveUpgrade();
  const reject = useRejectUpgrade();
  const busy = approve.isPending || reject.isPending;
  const args = { id: u.id, diffSha256: u.diffSha256, comment: comment.trim() };
  return (
    <div className={touch ? 'upgrade-decision upgrade-decision--touch' : 'upgrade-decision'}>
      <label className="field">
        <span className="muted small">Comment (sent to the agent on reject)</span>
        <textarea value={comment} onChange={(e) => setComment(e.target.value)} maxLength={2000} rows={touch ? 2 : 3} data-testid={`upgrade-comment-${u.id}`} />
      </label>
      <div className="btn-row">
        <button type="button" className={touch ? 'btn btn--primary btn--touch' : 'btn btn--primary'} disabled={busy} onClick={() => approve.mutate(args)} data-testid={`upgrade-approve-${u.id}`}>
          Approve{u.requiredApprovals > 1 ? ` (${u.approvals}/${u.requiredApprovals})` : ''}
        </button>
        <button type="button" className={touch ? 'btn btn--danger btn--touch' : 'btn btn--danger'} disabled={busy} onClick={() => reject.mutate(args)} data-testid={`upgrade-reject-${u.id}`}>
          Reject
        </button>
      </div>
      {u.requiresAdmin && <p className="muted small">Changes protected paths: an admin must approve.</p>}
      <ErrorText error={approve.error ?? reject.error} />
    </div>
  );
}
