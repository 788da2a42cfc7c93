import '../swarm.css';
import { Link } from 'react-router-dom';
import type { AgentDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { SinceTime } from '../../../components/ui/SinceTime';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { useAgents } from '../hooks/useSwarm';

function AgentRow({ agent }: { agent: AgentDto }) {
  return (
    <li className="agent" data-testid={`agent-${agent.id}`} data-status={agent.status}>
      <div className="agent__head">
        <Link to={`/agents/${encodeURIComponent(agent.id)}`} className="agent__name" data-testid={`agent-link-${agent.id}`}>
          <strong>{agent.name}</strong>
        </Link>
        <span className="muted small">{agent.kind}</span>
        <StatusBadge status={agent.status} testId={`agent-status-${agent.id}`} />
      </div>
      {agent.lifecycle && agent.lifecycleSince && <SinceTime since={agent.lifecycleSince} label={agent.lifecycle} />}
      {agent.unavailableReason && (
        <p className="agent__unavailable small" data-testid={`agent-unavailable-${agent.id}`}>
          not bidding: {agent.unavailableReason}
        </p>
      )}
      {agent.capabilities.length > 0 && (
        <ul className="tags">
          {agent.capabilities.map((c) => (
            <li key={c} className="tag">
              {c}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** Agents with kind, status badge, lifecycle transient (with time in it) and capabilities. */
export function AgentsPanel() {
  const { data, error, isPending } = useAgents();
  const agents = [...(data?.items ?? [])].sort((a, b) => Number(a.status === 'offline') - Number(b.status === 'offline') || a.name.localeCompare(b.name));
  const counts = { idle: 0, busy: 0, offline: 0 };
  for (const a of agents) counts[a.status] += 1;
  return (
    <section className="panel" data-testid="agents-panel">
      <h2>
        Agents{' '}
        <span className="muted small">
          {counts.idle} idle · {counts.busy} busy · {counts.offline} offline
        </span>
      </h2>
      {isPending && <p className="muted">Loading…</p>}
      <ErrorText error={error} />
      {data && agents.length === 0 && <p className="muted">No agents. Spawn a persona or enroll an external agent.</p>}
      <ul className="agents">
        {agents.map((a) => (
          <AgentRow key={a.id} agent={a} />
        ))}
      </ul>
    </section>
  );
}
