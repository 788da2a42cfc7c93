import type { AgentDto, CreateApiKeyResponse, EnrollAgentResponse, ListResponse, MeResponse } from '@app/contracts';
import { AgentSdkError, RestClient } from './rest';

/** Result of {@link resolveAgentKey}: the agent key to use and how it was obtained. */
export interface ResolvedAgentKey {
  /** An agent-bound API key (never log it). */
  key: string;
  agentId: string;
  /** `given`: the key already was an agent key; `enrolled`: a new agent was created; `reissued`: a fresh key for an existing agent. */
  how: 'given' | 'enrolled' | 'reissued';
}

/**
 * Turns the key a user passed into an agent key. An agent key is returned as is. An operator/admin key plus
 * `name` enrols an external agent (`POST /api/agents { name, capabilities }`); when the name is taken (409), the
 * agent is looked up by name in `GET /api/agents` and a fresh key is issued (`POST /api/agents/:id/keys`).
 * @throws AgentSdkError `sdk/name_required` (400) for an operator key without `name`; `sdk/agent_not_found` (404)
 *         when the name is taken but not listed; the server's error otherwise (401 bad key, 403 viewer key...).
 */
export async function resolveAgentKey(
  baseUrl: string,
  key: string,
  name: string | null,
  capabilities: string[],
): Promise<ResolvedAgentKey> {
  const rest = new RestClient({ baseUrl, apiKey: key });
  const me = await rest.get<MeResponse>('/api/auth/me');
  if (me.principal.role === 'agent' && me.principal.agentId) return { key, agentId: me.principal.agentId, how: 'given' };
  if (!name) {
    throw new AgentSdkError(400, 'sdk/name_required', `the key has role ${me.principal.role}; pass --name to enrol an agent with it, or use an agent key`);
  }
  try {
    const res = await rest.post<EnrollAgentResponse>('/api/agents', capabilities.length ? { name, capabilities } : { name });
    return { key: res.key, agentId: res.agent.id, how: 'enrolled' };
  } catch (err) {
    if (!(err instanceof AgentSdkError) || err.statusCode !== 409) throw err;
  }
  const agents = await rest.get<ListResponse<AgentDto>>('/api/agents');
  const agent = agents.items.find((a) => a.name === name);
  if (!agent) throw new AgentSdkError(404, 'sdk/agent_not_found', `agent name "${name}" is taken but no listed agent has it`);
  const res = await rest.post<CreateApiKeyResponse>(`/api/agents/${encodeURIComponent(agent.id)}/keys`);
  return { key: res.key, agentId: agent.id, how: 'reissued' };
}
