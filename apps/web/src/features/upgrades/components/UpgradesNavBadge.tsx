import '../upgrades.css';
import { useUpgrades, useUpgradesLiveUpdates } from '../hooks/useUpgrades';

/**
 * Pending-approval count next to the Upgrades nav link (nothing when zero or the queue is off). Mounted by the
 * desktop shell, it also keeps the `upgrades` channel subscription for every desktop page.
 */
export function UpgradesNavBadge() {
  useUpgradesLiveUpdates();
  const { data } = useUpgrades();
  const n = data?.pending ?? 0;
  if (n === 0) return null;
  return (
    <span className="nav-badge" data-testid="upgrades-badge" aria-label={`${n} pending`}>
      {n}
    </span>
  );
}
