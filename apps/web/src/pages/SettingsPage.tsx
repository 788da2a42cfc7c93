import { ApiKeysPanel } from '../features/auth/components/ApiKeysPanel';
import { UsersPanel } from '../features/auth/components/UsersPanel';
import { canOperate, usePrincipal } from '../features/auth/hooks/useAuth';
import { EnrollAgentPanel } from '../features/swarm/components/EnrollAgentPanel';

/** Settings: users (admin), API keys, external agent enrolment (operator+). */
export function SettingsPage() {
  const principal = usePrincipal();
  return (
    <div className="page-stack">
      <section className="panel">
        <h2>Signed in</h2>
        <p>
          <strong>{principal.username ?? principal.apiKeyId}</strong> <span className="muted">role {principal.role}</span>
        </p>
      </section>
      {principal.role === 'admin' && <UsersPanel currentUserId={principal.userId} />}
      <ApiKeysPanel role={principal.role} />
      {canOperate(principal.role) && <EnrollAgentPanel />}
    </div>
  );
}
