import './mobile.css';
import { Link } from 'react-router-dom';
import { MOBILE_EVENT_TYPES } from '@app/contracts';
import { ErrorText } from '../components/ui/ErrorText';
import { canOperate, useLogout, usePrincipal } from '../features/auth/hooks/useAuth';
import { FeedItem } from '../features/events/components/FeedItem';
import { useEventFeed } from '../features/events/hooks/useEventFeed';
import { RecentPayments } from '../features/ledger';
import { QuestionCard } from '../features/questions/components/QuestionCard';
import { useQuestions, useQuestionsLiveUpdates } from '../features/questions/hooks/useQuestions';
import { PendingUpgrades } from '../features/upgrades';
import { useConnectionState } from '../lib/realtime-react';

/**
 * Phone view (`/m`): one column, pending upgrade approvals and questions on top with big answer buttons, then a compact live feed of
 * the `mobile` channel. Operators and admins also see the latest ledger payments and invoices (viewers nothing of it). A banner shows while the socket is down; on reconnect the feed catches up by seq.
 */
export function MobilePage() {
  useQuestionsLiveUpdates();
  const principal = usePrincipal();
  const logout = useLogout();
  const state = useConnectionState();
  const { open, error: questionsError } = useQuestions();
  const feed = useEventFeed('mobile', { limit: 50, max: 200, types: MOBILE_EVENT_TYPES });
  const events = feed.data?.items ?? [];
  const mayAnswer = canOperate(principal.role);

  return (
    <div className="mobile">
      <header className="mobile__bar">
        <strong>Mission Control</strong>
        <span className={`conn-dot conn-dot--${state}`} data-testid="connection-status" data-state={state} aria-label={state} />
        <Link className="btn btn--ghost btn--touch" to="/">
          Desktop
        </Link>
        <button type="button" className="btn btn--ghost btn--touch" onClick={() => logout.mutate()}>
          Log out
        </button>
      </header>
      {state !== 'live' && (
        <div className="mobile__banner" role="status" data-testid="mobile-reconnecting">
          {state === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </div>
      )}
      <main className="mobile__main">
        <PendingUpgrades canOperate={mayAnswer} />
        <section aria-label="Pending questions">
          <h2 className="mobile__h">Questions {open.length > 0 && <span className="count">{open.length}</span>}</h2>
          <ErrorText error={questionsError} />
          {open.length === 0 && <p className="muted">Nothing waiting for you.</p>}
          {open.map((q) => (
            <QuestionCard key={q.id} question={q} canAnswer={mayAnswer} touch />
          ))}
        </section>
        {mayAnswer && <RecentPayments />}
        <section aria-label="Live feed">
          <h2 className="mobile__h">Live</h2>
          <ErrorText error={feed.error} />
          <div className="mobile-feed" data-testid="mobile-feed">
            {events.length === 0 && <p className="muted">{feed.isPending ? 'Loading…' : 'No events yet.'}</p>}
            {events.map((e) => (
              <FeedItem key={e.seq} event={e} compact />
            ))}
          </div>
        </section>
      </main>
    </div>
  );
}
