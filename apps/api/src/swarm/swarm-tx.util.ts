import type { AgentStatus } from '@app/contracts';
import { In } from 'typeorm';
import { nowIso } from '../common/time.util';
import type { WriteContext } from '../event-log/event-log.types';
import { AgentEntity } from './entities/agent.entity';
import { TaskEntity } from './entities/task.entity';

/** Task statuses in which an agent is working on the task. */
export const ACTIVE_TASK_STATUSES = ['assigned', 'running'] as const;

/**
 * Sets an agent's status inside a unit of work and appends `agent.status_changed {from, to, reason}` (no-op when the
 * status does not change). Mutates `agent`.
 */
export async function setAgentStatus(tx: WriteContext, agent: AgentEntity, to: AgentStatus, reason: string, source = 'coordinator'): Promise<void> {
  if (agent.status === to) return;
  const from = agent.status;
  agent.status = to;
  agent.updatedAt = nowIso();
  await tx.manager.update(AgentEntity, { id: agent.id }, { status: to, updatedAt: agent.updatedAt });
  tx.append({ type: 'agent.status_changed', source, agentId: agent.id, data: { from, to, reason } });
}

/** Number of tasks assigned to or running on `agentId`. */
export function countActiveTasks(tx: WriteContext, agentId: string): Promise<number> {
  return tx.manager.count(TaskEntity, { where: { assignedAgentId: agentId, status: In([...ACTIVE_TASK_STATUSES]) } });
}

/** Marks a busy agent idle when it has no other assigned/running task (call after the task left those states). */
export async function releaseAgent(tx: WriteContext, agentId: string | null, reason: string): Promise<void> {
  if (!agentId) return;
  const agent = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
  if (!agent || agent.status !== 'busy') return;
  if ((await countActiveTasks(tx, agentId)) === 0) await setAgentStatus(tx, agent, 'idle', reason);
}

/** Marks an idle agent busy (an offline winner stays offline until it comes back). */
export async function occupyAgent(tx: WriteContext, agent: AgentEntity, reason: string): Promise<void> {
  if (agent.status === 'idle') await setAgentStatus(tx, agent, 'busy', reason);
}

/**
 * Fails every assigned/running task of an agent with `reason` (`task.failed {reason, ...extra}`); returns the ids.
 * The agent's own status is left to the caller.
 */
export async function failActiveTasksOf(
  tx: WriteContext,
  agentId: string,
  reason: string,
  source: string,
  extra: Record<string, unknown> = {},
): Promise<string[]> {
  const tasks = await tx.manager.find(TaskEntity, { where: { assignedAgentId: agentId, status: In([...ACTIVE_TASK_STATUSES]) } });
  for (const t of tasks) await failTaskRow(tx, t, reason, source, extra);
  return tasks.map((t) => t.id);
}

/** Sets a task failed with `reason` and appends `task.failed {reason, ...extra}`. Mutates `task`. */
export async function failTaskRow(tx: WriteContext, task: TaskEntity, reason: string, source: string, extra: Record<string, unknown> = {}): Promise<void> {
  const now = nowIso();
  const from = task.status;
  task.status = 'failed';
  task.failureReason = reason;
  task.completedAt = now;
  task.updatedAt = now;
  await tx.manager.update(TaskEntity, { id: task.id }, { status: 'failed', failureReason: reason, completedAt: now, updatedAt: now });
  tx.append({ type: 'task.failed', source, taskId: task.id, agentId: task.assignedAgentId, data: { reason, from, ...extra } });
}
