import type { LedgerAccountDto } from '@app/contracts';
import { agentEarnings, formatSats } from '../format';

type AgentEarningsProps = { agents: readonly LedgerAccountDto[] | undefined };

/** Per-agent earnings from the agent accounts: earned (posted credits), available, held for running tasks. */
export function AgentEarnings({ agents }: AgentEarningsProps) {
  const rows = agentEarnings(agents ?? []);
  if (rows.length === 0) return <p className="muted small">No agent has earned anything yet.</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="ledger-agents">
        <thead>
          <tr>
            <th>agent</th>
            <th className="ledger-num">earned</th>
            <th className="ledger-num">available</th>
            <th className="ledger-num">held</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.agentId} data-testid={`ledger-agent-${r.agentId}`}>
              <td className="mono">{r.agentId}</td>
              <td className="ledger-num">{formatSats(r.earnedMsat)}</td>
              <td className="ledger-num">{formatSats(r.availableMsat)}</td>
              <td className="ledger-num">{r.pendingMsat > 0 ? <span className="badge badge--pending">{formatSats(r.pendingMsat)}</span> : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
