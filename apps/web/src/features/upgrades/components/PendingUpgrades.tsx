import '../upgrades.css';
import { useState } from 'react';
import type { UpgradeDto } from '@app/contracts';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { useUpgrades, useUpgradesLiveUpdates } from '../hooks/useUpgrades';
import { DecisionForm } from './DecisionForm';

/** Phone view section: pending approvals with 44 px approve / reject, and the queue's running items. */
export function PendingUpgrades({ canOperate }: { canOperate: boolean }) {
  useUpgradesLiveUpdates();
  const { pending, active, config } = useUpgrades();
  if (config.data && !config.data.enabled) return null;
  return (
    <section aria-label="Pending upgrades" data-testid="mobile-upgrades">
      <h2 className="mobile__h">Upgrades {pending.length > 0 && <span className="count">{pending.length}</span>}</h2>
      {pending.length === 0 && <p className="muted">No upgrade waiting for approval.</p>}
      {pending.map((u) => (
        <PendingUpgradeCard key={u.id} upgrade={u} canOperate={canOperate} />
      ))}
      {active.map((u) => (
        <p key={u.id} className="upgrade-running" data-testid={`mobile-upgrade-${u.id}`} data-state={u.state}>
          <StatusBadge status={u.state} /> {u.title}
        </p>
      ))}
    </section>
  );
}

function PendingUpgradeCard({ upgrade: u, canOperate }: { upgrade: UpgradeDto; canOperate: boolean }) {
  const [showFiles, setShowFiles] = useState(false);
  return (
    <article className="upgrade-card" data-testid={`mobile-upgrade-${u.id}`} data-state={u.state}>
      <p className="upgrade-card__title">{u.title}</p>
      <p className="muted small">
        {u.proposedBy} · {u.files.length} files · <span className="upgrade-added">+{u.linesAdded}</span> <span className="upgrade-removed">−{u.linesRemoved}</span>
      </p>
      <button type="button" className="btn btn--ghost btn--touch" onClick={() => setShowFiles((v) => !v)}>
        {showFiles ? 'Hide files' : 'Files'}
      </button>
      {showFiles && (
        <ul className="upgrade-files">
          {u.files.map((f) => (
            <li key={f.path}>
              {f.path} (+{f.added} −{f.removed}){f.protected ? ' · protected' : ''}
            </li>
          ))}
        </ul>
      )}
      {canOperate && <DecisionForm upgrade={u} touch />}
    </article>
  );
}
