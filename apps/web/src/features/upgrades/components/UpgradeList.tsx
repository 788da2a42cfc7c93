import '../upgrades.css';
import { Link } from 'react-router-dom';
import type { UpgradeDto } from '@app/contracts';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatClock } from '../../../lib/time';
import { runDuration } from '../format';

type UpgradeListProps = { items: UpgradeDto[]; selectedId?: string; empty: string; testId: string };

/** A list of proposals: state, title, proposer, size, time and run duration; each links to its detail. */
export function UpgradeList({ items, selectedId, empty, testId }: UpgradeListProps) {
  if (items.length === 0) return <p className="muted" data-testid={`${testId}-empty`}>{empty}</p>;
  return (
    <ul className="upgrade-list" data-testid={testId}>
      {items.map((u) => (
        <li key={u.id} className={u.id === selectedId ? 'upgrade-row upgrade-row--selected' : 'upgrade-row'} data-testid={`upgrade-row-${u.id}`} data-state={u.state}>
          <Link to={`/upgrades/${u.id}`} className="upgrade-row__link">
            <StatusBadge status={u.state} />
            <span className="upgrade-row__title">{u.title}</span>
            <span className="muted small">
              {u.proposedBy} · <span className="upgrade-added">+{u.linesAdded}</span> <span className="upgrade-removed">−{u.linesRemoved}</span> · {formatClock(u.createdAt)}
              {u.testStartedAt ? ` · ${runDuration(u)}` : ''}
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
