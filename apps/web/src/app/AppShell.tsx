import './shell.css';
import type { ReactNode } from 'react';
import { NavLink } from 'react-router-dom';
import type { Principal } from '@app/contracts';
import { ConnectionBadge } from '../components/ui/ConnectionBadge';
import { canOperate, useLogout } from '../features/auth/hooks/useAuth';
import { QuestionsNavBadge } from '../features/questions';
import { UpgradesNavBadge } from '../features/upgrades';
import { useConnectionState } from '../lib/realtime-react';

type AppShellProps = { principal: Principal; children: ReactNode };

type NavEntry = { to: string; label: string; end?: boolean; operatorsOnly?: boolean };

const NAV: NavEntry[] = [
  { to: '/', label: 'Live', end: true },
  { to: '/events', label: 'Events' },
  { to: '/questions', label: 'Questions' },
  // the ledger is privileged: viewers get no entry (and the API refuses them)
  { to: '/ledger', label: 'Ledger', operatorsOnly: true },
  { to: '/router', label: 'Router' },
  { to: '/memory', label: 'Memory' },
  { to: '/upgrades', label: 'Upgrades' },
  { to: '/settings', label: 'Settings' },
  { to: '/m', label: 'Phone view' },
];

/**
 * Desktop layout: header with nav (the Ledger entry for operators and admins only; count badges for open questions and pending upgrade approvals), a link to the
 * API's Swagger UI, connection badge, user and logout.
 */
export function AppShell({ principal, children }: AppShellProps) {
  const state = useConnectionState();
  const logout = useLogout();
  const nav = NAV.filter((n) => !n.operatorsOnly || canOperate(principal.role));
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">
          <span className="logo" aria-hidden="true">
            ◎
          </span>{' '}
          Mission Control
        </span>
        <nav className="nav" aria-label="Main">
          {nav.map((n) => (
            <NavLink key={n.to} to={n.to} end={n.end} className={({ isActive }) => (isActive ? 'nav__link nav__link--active' : 'nav__link')} data-testid={`nav-${n.label.toLowerCase().replace(/\s+/g, '-')}`}>
              {n.label}
              {n.to === '/questions' && <QuestionsNavBadge />}
              {n.to === '/upgrades' && <UpgradesNavBadge />}
            </NavLink>
          ))}
        </nav>
        <div className="topbar__right">
          <a className="nav__link nav__link--external" href="/api/docs" target="_blank" rel="noopener noreferrer" data-testid="nav-api-docs" title="REST API reference (Swagger UI)">
            API docs ↗
          </a>
          <ConnectionBadge state={state} />
          <span className="muted small" data-testid="current-user">
            {principal.username ?? 'api key'} · {principal.role}
          </span>
          <button type="button" className="btn btn--ghost btn--small" onClick={() => logout.mutate()} data-testid="logout">
            Logout
          </button>
        </div>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
