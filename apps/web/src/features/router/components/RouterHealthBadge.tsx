import { Link } from 'react-router-dom';
import { routerHealth } from '../format';
import { useRouterLiveUpdates, useRouterStatus } from '../hooks/useRouter';
import '../router.css';

type RouterHealthBadgeProps = {
  /** Subscribe to the `router` channel for live updates (leave on unless the page already mounts useRouterLiveUpdates). */
  live?: boolean;
};

function RouterLiveUpdates() {
  useRouterLiveUpdates();
  return null;
}

/** Compact router health for a page header: dot + serving provider, linking to the Router page. */
export function RouterHealthBadge({ live = true }: RouterHealthBadgeProps) {
  const status = useRouterStatus();
  const h = routerHealth(status.data);
  return (
    <>
      {live && <RouterLiveUpdates />}
      <Link to="/router" className={`router-health router-health--${h.level}`} title={h.title} data-testid="router-health-badge">
        <span className="router-health__dot" aria-hidden="true" />
        {h.label}
      </Link>
    </>
  );
}
