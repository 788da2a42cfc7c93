import '../swarm.css';
import type { AgentDto, PersonaDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import type { PersonaAction } from '../api/swarm.api';
import { useAgents, usePersonaAction, usePersonas } from '../hooks/useSwarm';

type PersonasPanelProps = { canOperate: boolean };

/** The built-in personas with Spawn / Stop / Restart (operator and admin only). */
export function PersonasPanel({ canOperate }: PersonasPanelProps) {
  const personas = usePersonas();
  const agents = useAgents();
  const action = usePersonaAction();
  const byId = new Map<string, AgentDto>((agents.data?.items ?? []).map((a) => [a.id, a]));

  const handleAction = (personaId: string, act: PersonaAction) => action.mutate({ personaId, action: act });

  return (
    <section className="panel" data-testid="personas-panel">
      <h2>Personas</h2>
      {personas.isPending && <p className="muted">Loading…</p>}
      <ErrorText error={personas.error ?? action.error} />
      <ul className="personas">
        {(personas.data ?? []).map((p: PersonaDto) => {
          const agent = byId.get(p.agentId ?? `persona-${p.id}`);
          const running = Boolean(agent && agent.status !== 'offline');
          const busyWith = action.isPending && action.variables?.personaId === p.id;
          const transient = Boolean(agent?.lifecycle) || busyWith;
          return (
            <li key={p.id} className="persona" data-testid={`persona-${p.id}`}>
              <div className="persona__head">
                <strong>{p.name}</strong>
                <span className="muted small">{p.role}</span>
                <StatusBadge status={agent?.lifecycle ?? (running ? agent!.status : 'stopped')} />
              </div>
              <p className="muted small clamp">{p.description}</p>
              <p className="small">
                rate {p.rateSats} sats · base bid {p.baseBidSats}±{p.jitterSats} sats
              </p>
              {canOperate && (
                <div className="btn-row">
                  <button
                    type="button"
                    className="btn btn--small btn--primary"
                    disabled={running || transient}
                    onClick={() => handleAction(p.id, 'spawn')}
                    data-testid={`persona-spawn-${p.id}`}
                  >
                    Spawn
                  </button>
                  <button type="button" className="btn btn--small" disabled={!running || transient} onClick={() => handleAction(p.id, 'stop')} data-testid={`persona-stop-${p.id}`}>
                    Stop
                  </button>
                  <button
                    type="button"
                    className="btn btn--small"
                    disabled={!running || transient}
                    onClick={() => handleAction(p.id, 'restart')}
                    data-testid={`persona-restart-${p.id}`}
                  >
                    Restart
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
