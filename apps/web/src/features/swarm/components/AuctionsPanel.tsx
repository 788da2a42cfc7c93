import '../swarm.css';
import { Link } from 'react-router-dom';
import type { AgentDto, TaskDto } from '@app/contracts';
import { Countdown } from '../../../components/ui/Countdown';
import { useAgents, useTaskDetail, useTasks } from '../hooks/useSwarm';

function AuctionCard({ task, agents }: { task: TaskDto; agents: Map<string, AgentDto> }) {
  const detail = useTaskDetail(task.id);
  const bids = [...(detail.data?.bids ?? [])].sort((a, b) => a.bidSats - b.bidSats || a.createdAt.localeCompare(b.createdAt));
  const lowest = bids[0]?.bidSats;
  return (
    <li className="auction" data-testid={`auction-${task.id}`}>
      <div className="auction__head">
        <Link to={`/tasks/${encodeURIComponent(task.id)}`} className="auction__desc" title={task.description}>
          {task.description}
        </Link>
        {task.auctionClosesAt && <Countdown until={task.auctionClosesAt} testId={`auction-countdown-${task.id}`} />}
      </div>
      {bids.length === 0 ? (
        <p className="muted small">{detail.isPending ? 'Loading bids…' : 'No bids yet.'}</p>
      ) : (
        <ul className="bids">
          {bids.map((b) => (
            <li key={b.id} className={b.bidSats === lowest ? 'bid bid--lowest' : 'bid'} data-testid={`bid-${task.id}-${b.agentId}`}>
              <span>{agents.get(b.agentId)?.name ?? b.agentId}</span>
              <span className="mono">{b.bidSats} sats</span>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** Open auctions (tasks in `bidding`), their bids (lowest highlighted) and a live countdown. */
export function AuctionsPanel() {
  const tasks = useTasks();
  const agents = useAgents();
  const byId = new Map((agents.data?.items ?? []).map((a) => [a.id, a]));
  const open = (tasks.data?.items ?? []).filter((t) => t.status === 'bidding' || (t.status === 'pending' && t.auctionClosesAt));
  return (
    <section className="panel" data-testid="auctions-panel">
      <h2>
        Open auctions <span className="muted small">{open.length}</span>
      </h2>
      {open.length === 0 && <p className="muted">No open auctions.</p>}
      <ul className="auctions">
        {open.map((t) => (
          <AuctionCard key={t.id} task={t} agents={byId} />
        ))}
      </ul>
    </section>
  );
}
