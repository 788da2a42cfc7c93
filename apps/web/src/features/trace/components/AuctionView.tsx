import '../trace.css';
import { Link } from 'react-router-dom';
import { formatClock } from '../../../lib/time';
import type { TaskTrace } from '../trace';

type AuctionViewProps = { auction: TaskTrace['auction'] };

/** Bids (lowest first, the winner marked), refused bids with the reason, and when the auction closed. */
export function AuctionView({ auction }: AuctionViewProps) {
  if (auction.direct) {
    return (
      <p className="muted small" data-testid="task-auction">
        No auction: assigned directly{auction.winnerAgentId ? ` to ${auction.winnerAgentId}` : ''}.
      </p>
    );
  }
  const bids = [...auction.bids].sort((a, b) => a.bidSats - b.bidSats || a.at.localeCompare(b.at));
  return (
    <div data-testid="task-auction">
      {bids.length === 0 ? (
        <p className="muted small">No bids.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>agent</th>
              <th>bid (sats)</th>
              <th>at</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {bids.map((b) => (
              <tr key={`${b.agentId}-${b.at}`} data-testid={`task-bid-${b.agentId}`}>
                <td>
                  <Link to={`/agents/${encodeURIComponent(b.agentId)}`}>{b.agentId}</Link>
                </td>
                <td className="mono">{b.bidSats}</td>
                <td className="mono small">{formatClock(b.at)}</td>
                <td>{b.won && <span className="badge badge--completed">winner</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {auction.rejected.length > 0 && (
        <ul className="trace-list small" data-testid="task-rejected-bids">
          {auction.rejected.map((r, i) => (
            <li key={i}>
              refused: {r.agentId ?? '?'} {r.bidSats !== null ? `${r.bidSats} sats` : ''} at {formatClock(r.at)}: {r.reason}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">
        {auction.closedAt ? `Closed at ${formatClock(auction.closedAt)}` : 'Not closed'}
        {auction.winnerAgentId ? ` · winner ${auction.winnerAgentId} at ${auction.winningBidSats ?? '?'} sats` : ''}
      </p>
    </div>
  );
}
