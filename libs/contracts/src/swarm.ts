import type { AgentLifecycleState } from './events';

export const AGENT_STATUSES = ['idle', 'busy', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];
export type AgentKind = 'persona' | 'external';

export const TASK_STATUSES = ['pending', 'bidding', 'assigned', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

/** The nine built-in persona ids of the prototype. */
export const PERSONA_IDS = ['echo', 'mace', 'helm', 'seer', 'forge', 'quill', 'pixel', 'lyra', 'reel'] as const;
export type PersonaId = (typeof PERSONA_IDS)[number];

export interface AgentDto {
  id: string;
  name: string;
  kind: AgentKind;
  personaId: PersonaId | null;
  capabilities: string[];
  status: AgentStatus;
  /** Transient lifecycle state (spawning, stopping, ...) or null, with the ISO time it was entered. */
  lifecycle: AgentLifecycleState | null;
  lifecycleSince: string | null;
  lastHeartbeatAt: string | null;
  createdAt: string;
  updatedAt: string;
  /**
   * Why the agent does not bid now although it is online, or null: a spawned persona while no LLM provider can serve
   * it (e.g. "no LLM provider can serve requests: ollama-local unhealthy (circuit open ...)").
   */
  unavailableReason: string | null;
}

export interface PersonaDto {
  id: PersonaId;
  name: string;
  role: string;
  description: string;
  capabilities: string[];
  preferredKeywords: string[];
  /** Bidding rule parameters in sats. */
  rateSats: number;
  baseBidSats: number;
  jitterSats: number;
  /** The agent currently running this persona, if spawned. */
  agentId: string | null;
}

export interface TaskDto {
  id: string;
  description: string;
  status: TaskStatus;
  assignedAgentId: string | null;
  winningBidSats: number | null;
  /**
   * Most a bid may ask, in integer sats (a bid above it is refused with 409 `swarm/bid_over_budget`); null = no
   * budget. Always present in API answers; optional in the type so older producers still type-check.
   */
  budgetSats?: number | null;
  result: string | null;
  failureReason: string | null;
  createdBy: string | null;
  auctionClosesAt: string | null;
  createdAt: string;
  assignedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
}

export interface BidDto {
  id: string;
  taskId: string;
  agentId: string;
  bidSats: number;
  won: boolean;
  createdAt: string;
}

export interface TaskDetailDto extends TaskDto {
  bids: BidDto[];
}

export interface CreateTaskRequest {
  description: string;
  /** Assign directly to this agent instead of running an auction. */
  agentId?: string;
  /** Override the auction window for this task (ms). */
  auctionWindowMs?: number;
  /** Budget in integer sats, 1..1,000,000 (the bid range): bids above it are refused. Omit for no budget. */
  budgetSats?: number;
}

/** `POST /api/tasks/:id/assign`: an operator assigns a bidding (auction still open) or assigned (not started) task. */
export interface AssignTaskRequest {
  agentId: string;
}

/** `POST /api/tasks` answer: the task plus a warning when no agent able to do it is available now. */
export interface CreateTaskResponse extends TaskDto {
  /** e.g. "No agent can take this task now: ..." (the task is created anyway); null when some agent can. */
  warning: string | null;
}

export interface SubmitBidRequest {
  bidSats: number;
}

export interface CompleteTaskRequest {
  result: string;
}

export interface FailTaskRequest {
  reason: string;
}

export interface CancelTaskRequest {
  reason?: string;
}

export interface TaskProgressRequest {
  message: string;
  /** 0..1 */
  fraction?: number;
}

export interface JoinRequest {
  capabilities?: string[];
}

export interface EnrollAgentRequest {
  name: string;
  capabilities?: string[];
}

export interface EnrollAgentResponse {
  agent: AgentDto;
  /** The agent-bound API key, shown once. */
  key: string;
}

export interface AgentMessageDto {
  id: string;
  fromAgentId: string | null;
  toAgentId: string;
  body: string;
  status: 'sent' | 'delivered';
  createdAt: string;
  deliveredAt: string | null;
}

export interface SendMessageRequest {
  toAgentId: string;
  body: string;
}

export type QuestionStatus = 'open' | 'answered' | 'cancelled' | 'expired';

export interface QuestionDto {
  id: string;
  agentId: string | null;
  taskId: string | null;
  question: string;
  options: string[];
  multiple: boolean;
  deadline: string | null;
  status: QuestionStatus;
  answer: string[] | null;
  answeredBy: string | null;
  createdAt: string;
  resolvedAt: string | null;
}

export interface AskQuestionRequest {
  question: string;
  options: string[];
  multiple?: boolean;
  taskId?: string;
  /** ISO time after which the question expires unanswered. */
  deadline?: string;
}

export interface AnswerQuestionRequest {
  answer: string[];
}

export interface SwarmStatusDto {
  agents: number;
  agentsIdle: number;
  agentsBusy: number;
  agentsOffline: number;
  tasksTotal: number;
  tasksByStatus: Record<TaskStatus, number>;
  activeAuctions: number;
  headSeq: number;
}

/** A list read with the head `seq` it was read at (BRIEF section 4.6). */
export interface ListResponse<T> {
  items: T[];
  headSeq: number;
  epoch: string;
}
