import '../features/trace/trace.css';
import { Link, useParams } from 'react-router-dom';
import { ErrorText } from '../components/ui/ErrorText';
import { StatusBadge } from '../components/ui/StatusBadge';
import { useAgentActivity } from '../features/trace/hooks/useTrace';
import { agentStats } from '../features/trace/trace';
import { formatClock, formatDateTime } from '../lib/time';

/** An agent: status, win rate over closed auctions, tasks, bid history, messages; live from `agent:<id>`. */
export function AgentPage() {
  const { id = '' } = useParams();
  const { agent, tasks, bids, auctions, messages } = useAgentActivity(id);
  if (agent.error) return <ErrorText error={agent.error} testId="agent-error" />;
  if (!agent.data) return <p className="muted">Loading…</p>;
  const a = agent.data;
  const stats = agentStats(a.id, bids.data?.items ?? [], auctions.data?.items ?? []);
  const refused = (bids.data?.items ?? []).filter((e) => e.type === 'bid.rejected');
  const items = tasks.data?.items ?? [];
  const done = items.filter((t) => t.status === 'completed').length;
  const failed = items.filter((t) => t.status === 'failed').length;
  const stat = (label: string, value: string | number, testId: string) => (
    <div className="trace-stat">
      <div className="muted small">{label}</div>
      <div className="trace-stat__value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
  return (
    <div className="page-stack" data-testid="agent-page">
      <section className="panel">
        <div className="trace-head">
          <StatusBadge status={a.status} testId="agent-page-status" />
          <h1>{a.name}</h1>
          <span className="muted mono small">{a.id}</span>
        </div>
        <div className="trace-facts">
          <span>kind {a.kind}</span>
          <span>capabilities {a.capabilities.join(', ') || '—'}</span>
          <span>enrolled {formatDateTime(a.createdAt)}</span>
          <span className="muted small">earnings: shown here once the ledger records payouts</span>
        </div>
        {a.unavailableReason && (
          <p className="notice-warn" data-testid="agent-page-unavailable">
            not bidding: {a.unavailableReason}
          </p>
        )}
        <div className="trace-stats">
          {stat('Win rate', stats.winRate === null ? '—' : `${Math.round(stats.winRate * 100)} %`, 'agent-win-rate')}
          {stat('Auctions won / decided', `${stats.auctionsWon} / ${stats.auctionsDecided}`, 'agent-auctions')}
          {stat('Bids', stats.bids.length, 'agent-bid-count')}
          {stat('Tasks completed', done, 'agent-completed')}
          {stat('Tasks failed', failed, 'agent-failed')}
        </div>
        <p className="muted small">Win rate counts closed auctions only; bids on open auctions are shown as open.</p>
      </section>
      <div className="trace-grid">
        <section className="panel">
          <h2>Tasks</h2>
          <ErrorText error={tasks.error} />
          {items.length === 0 ? (
            <p className="muted small">No tasks assigned yet.</p>
          ) : (
            <table className="table" data-testid="agent-tasks">
              <tbody>
                {items.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <StatusBadge status={t.status} />
                    </td>
                    <td>
                      <Link to={`/tasks/${encodeURIComponent(t.id)}`}>{t.description}</Link>
                    </td>
                    <td className="mono small">{t.winningBidSats ?? '—'} sats</td>
                    <td className="mono small">{formatClock(t.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <div>
          <section className="panel">
            <h2>Bid history</h2>
            <ErrorText error={bids.error} />
            {stats.bids.length === 0 ? (
              <p className="muted small">No bids.</p>
            ) : (
              <table className="table" data-testid="agent-bids">
                <tbody>
                  {stats.bids.map((b) => (
                    <tr key={b.seq} data-outcome={b.outcome}>
                      <td className="mono small">{formatClock(b.at)}</td>
                      <td>
                        <Link to={`/tasks/${encodeURIComponent(b.taskId)}`} className="mono small">
                          {b.taskId.slice(0, 8)}
                        </Link>
                      </td>
                      <td className="mono">{b.bidSats ?? '?'} sats</td>
                      <td>
                        <span className={`badge badge--${b.outcome === 'won' ? 'completed' : b.outcome === 'lost' ? 'cancelled' : 'open'}`}>{b.outcome}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {refused.length > 0 && <p className="muted small">{refused.length} bid(s) refused by the coordinator (late or invalid).</p>}
          </section>
          <section className="panel">
            <h2>Messages</h2>
            <ErrorText error={messages.error} />
            {(messages.data?.items ?? []).length === 0 ? (
              <p className="muted small">No messages.</p>
            ) : (
              <ul className="trace-list small" data-testid="agent-messages">
                {(messages.data?.items ?? []).map((m) => (
                  <li key={m.id}>
                    {formatClock(m.createdAt)} {m.fromAgentId ?? 'operator'} → {m.toAgentId}: {m.body} <span className="muted">({m.status})</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      </div>
    </div>
  );
}
