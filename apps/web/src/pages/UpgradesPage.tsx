import { useParams } from 'react-router-dom';
import { ErrorText } from '../components/ui/ErrorText';
import { useCanOperate } from '../features/auth/hooks/useAuth';
import { UpgradeDetail, UpgradeList, useUpgrade, useUpgrades } from '../features/upgrades';

/**
 * Upgrades (`/upgrades`, `/upgrades/:id`): pending proposals, the queue, history with states and durations on the
 * left; the selected proposal's diff, live test output and decisions on the right. Live through the nav badge's
 * `upgrades` subscription (the desktop shell keeps it).
 */
export function UpgradesPage() {
  const { id } = useParams();
  const { pending, active, history, error, isPending, config } = useUpgrades();
  const canOperate = useCanOperate();
  if (config.data && !config.data.enabled) {
    return (
      <section className="panel" data-testid="upgrades-off">
        <h2>Upgrades</h2>
        <p>{config.data.hint}</p>
      </section>
    );
  }
  return (
    <div className="upgrades">
      <div className="page-stack">
        <section className="panel">
          <h2>
            Pending <span className="muted small">{pending.length}</span>
          </h2>
          {isPending && <p className="muted">Loading…</p>}
          <ErrorText error={error ?? config.error} />
          <UpgradeList items={pending} selectedId={id} empty="Nothing waiting for approval." testId="upgrades-pending" />
        </section>
        <section className="panel">
          <h2>Queue</h2>
          <UpgradeList items={active} selectedId={id} empty="The queue is empty." testId="upgrades-queue" />
        </section>
        <section className="panel">
          <h2>History</h2>
          <UpgradeList items={history} selectedId={id} empty="No finished upgrades yet." testId="upgrades-history" />
        </section>
      </div>
      <section className="panel">{id ? <SelectedUpgrade id={id} canOperate={canOperate} /> : <p className="muted">Select a proposal to see its diff.</p>}</section>
    </div>
  );
}

function SelectedUpgrade({ id, canOperate }: { id: string; canOperate: boolean }) {
  const q = useUpgrade(id);
  if (q.isPending) return <p className="muted">Loading…</p>;
  if (!q.data) return <ErrorText error={q.error} />;
  return <UpgradeDetail upgrade={q.data} canOperate={canOperate} />;
}
