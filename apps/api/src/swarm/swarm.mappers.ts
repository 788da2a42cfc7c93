import type { AgentDto, AgentMessageDto, BidDto, QuestionDto, TaskDto } from '@app/contracts';
import type { AgentMessageEntity } from './entities/agent-message.entity';
import type { AgentEntity } from './entities/agent.entity';
import type { BidEntity } from './entities/bid.entity';
import type { OperatorQuestionEntity } from './entities/operator-question.entity';
import type { TaskEntity } from './entities/task.entity';

/**
 * Entity -> wire DTO mappers (controllers never return entities).
 * `unavailableReason`: why an online agent does not bid now (a persona without an LLM provider), else null.
 */
export function toAgentDto(a: AgentEntity, unavailableReason: string | null = null): AgentDto {
  return {
    id: a.id,
    name: a.name,
    kind: a.kind,
    personaId: a.personaId,
    capabilities: a.capabilities,
    status: a.status,
    lifecycle: a.lifecycle,
    lifecycleSince: a.lifecycleSince,
    lastHeartbeatAt: a.lastHeartbeatAt,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    unavailableReason,
  };
}

export function toTaskDto(t: TaskEntity): TaskDto {
  return {
    id: t.id,
    description: t.description,
    status: t.status,
    assignedAgentId: t.assignedAgentId,
    winningBidSats: t.winningBidSats,
    budgetSats: t.budgetSats ?? null,
    result: t.result,
    failureReason: t.failureReason,
    createdBy: t.createdBy,
    auctionClosesAt: t.auctionClosesAt,
    createdAt: t.createdAt,
    assignedAt: t.assignedAt,
    startedAt: t.startedAt,
    completedAt: t.completedAt,
    updatedAt: t.updatedAt,
  };
}

export function toBidDto(b: BidEntity): BidDto {
  return { id: b.id, taskId: b.taskId, agentId: b.agentId, bidSats: Number(b.bidSats), won: Boolean(b.won), createdAt: b.createdAt };
}

export function toMessageDto(m: AgentMessageEntity): AgentMessageDto {
  return { id: m.id, fromAgentId: m.fromAgentId, toAgentId: m.toAgentId, body: m.body, status: m.status, createdAt: m.createdAt, deliveredAt: m.deliveredAt };
}

export function toQuestionDto(q: OperatorQuestionEntity): QuestionDto {
  return {
    id: q.id,
    agentId: q.agentId,
    taskId: q.taskId,
    question: q.question,
    options: q.options,
    multiple: Boolean(q.multiple),
    deadline: q.deadline,
    status: q.status,
    answer: q.answer,
    answeredBy: q.answeredBy,
    createdAt: q.createdAt,
    resolvedAt: q.resolvedAt,
  };
}

/** Event `source` for an acting agent: `persona:<id>` for personas, `agent:<id>` for external agents. */
export function agentSource(agentId: string): string {
  return agentId.startsWith('persona-') ? `persona:${agentId.slice('persona-'.length)}` : `agent:${agentId}`;
}

/** First `max` characters of a text for event payloads (full text stays in its table). */
export function preview(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
