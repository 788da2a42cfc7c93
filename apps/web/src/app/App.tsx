import { useEffect } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Navigate, Route, Routes } from 'react-router-dom';
import { ErrorText } from '../components/ui/ErrorText';
import { authKeys } from '../features/auth/api/auth.queries';
import { useMe } from '../features/auth/hooks/useAuth';
import { setUnauthorizedHandler } from '../lib/api-client';
import { RealtimeProvider } from '../lib/realtime-react';
import { AgentPage } from '../pages/AgentPage';
import { EventsPage } from '../pages/EventsPage';
import { LedgerPage } from '../pages/LedgerPage';
import { LivePage } from '../pages/LivePage';
import { LoginPage } from '../pages/LoginPage';
import { MemoryPage } from '../pages/MemoryPage';
import { MobilePage } from '../pages/MobilePage';
import { QuestionsPage } from '../pages/QuestionsPage';
import { RouterPage } from '../pages/RouterPage';
import { SettingsPage } from '../pages/SettingsPage';
import { TaskPage } from '../pages/TaskPage';
import { UpgradesPage } from '../pages/UpgradesPage';
import { AppShell } from './AppShell';

/** Session gate + routes. Logged out: the login form on any route. */
export function App() {
  const qc = useQueryClient();
  const me = useMe();

  useEffect(() => {
    // A 401 on any call means the session ended: recheck /me, which shows the login page.
    setUnauthorizedHandler(() => void qc.invalidateQueries({ queryKey: authKeys.me() }));
    return () => setUnauthorizedHandler(null);
  }, [qc]);

  if (me.isPending) return <p className="boot muted">Loading…</p>;
  if (me.error && !me.data) {
    return (
      <main className="login-page">
        <ErrorText error={me.error} />
        <button type="button" className="btn" onClick={() => me.refetch()}>
          Retry
        </button>
      </main>
    );
  }
  if (!me.data) return <LoginPage />;
  const principal = me.data.principal;

  return (
    <RealtimeProvider key={principal.userId ?? principal.apiKeyId ?? 'session'} onConnectError={() => void qc.invalidateQueries({ queryKey: authKeys.me() })}>
      <Routes>
        <Route path="/m" element={<MobilePage />} />
        <Route
          path="*"
          element={
            <AppShell principal={principal}>
              <Routes>
                <Route path="/" element={<LivePage />} />
                <Route path="/events" element={<EventsPage />} />
                <Route path="/questions" element={<QuestionsPage />} />
                <Route path="/router" element={<RouterPage />} />
                <Route path="/ledger" element={<LedgerPage />} />
                <Route path="/memory" element={<MemoryPage />} />
                <Route path="/upgrades" element={<UpgradesPage />} />
                <Route path="/upgrades/:id" element={<UpgradesPage />} />
                <Route path="/tasks/:id" element={<TaskPage />} />
                <Route path="/agents/:id" element={<AgentPage />} />
                <Route path="/settings" element={<SettingsPage />} />
                <Route path="*" element={<Navigate to="/" replace />} />
              </Routes>
            </AppShell>
          }
        />
      </Routes>
    </RealtimeProvider>
  );
}
