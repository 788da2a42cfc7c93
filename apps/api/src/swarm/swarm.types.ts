import type { Principal } from '@app/contracts';
import { swarmError } from './swarm.errors';

/**
 * Who asks for a swarm change: an agent (external or persona, `agentId` set) or a user/script (`username`).
 * `operator` is true for admin/operator principals without an agent binding.
 */
export interface Actor {
  agentId: string | null;
  username: string | null;
  operator: boolean;
}

/** Actor of an authenticated principal. */
export function actorFrom(p: Principal): Actor {
  return { agentId: p.agentId, username: p.username, operator: !p.agentId && (p.role === 'admin' || p.role === 'operator') };
}

/** Actor for a persona doing its own work. */
export function personaActor(agentId: string): Actor {
  return { agentId, username: null, operator: false };
}

/** Text recorded as `createdBy` / `by`: the agent id, else the username, else `api`. */
export function actorLabel(a: Actor): string {
  return a.agentId ?? a.username ?? 'api';
}

/**
 * The agent id of a principal that must be an agent (the `/me` routes, bidding, asking questions).
 * @throws AppError `swarm/agent_role_required` (403) for users and non-agent keys.
 */
export function requireAgentId(p: Principal): string {
  if (p.role !== 'agent' || !p.agentId) throw swarmError('swarm/agent_role_required', 'This route is for agent API keys (role agent)', 403);
  return p.agentId;
}
