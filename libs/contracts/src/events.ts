/**
 * The event catalogue: every event type the product emits, its payload shape (`EventDataMap`) and the channel it is
 * published on (`EVENT_SPECS`). The event envelope is the `event_log` row (BRIEF sections 4-5).
 *
 * Adding a type: declare its data in the domain's `...EventDataMap` and its spec in the domain's `..._EVENT_SPECS`
 * (`satisfies EventSpecs<...>` makes both exhaustive), then document it in `docs/events.md` (a test checks the page
 * against this catalogue). A type without a channel does not compile; there is no default channel.
 */
import type { EmptyData, EventSpec, EventSpecs } from './event-spec';
import { DOMAIN_CHANNELS, PRIVILEGED_CHANNELS, type DomainChannel } from './event-spec';
import { LEDGER_EVENT_SPECS, type LedgerEventDataMap } from './ledger';
import { MEMORY_EVENT_SPECS, type MemoryEventDataMap } from './memory';
import type { RouterFailoverData, RouterProviderStateChangedData } from './router';
import type { AgentKind, AgentStatus, TaskStatus } from './swarm';
import { UPGRADE_EVENT_SPECS, type UpgradeEventDataMap } from './upgrades';

export { DOMAIN_CHANNELS, PRIVILEGED_CHANNELS };
export type { DomainChannel, EmptyData, EventSpec, EventSpecs };

/** Lifecycle transients an agent can be in (hyperhive style); `null` clears it. */
export type AgentLifecycleState = 'spawning' | 'stopping' | 'restarting' | 'joining' | 'leaving';

// ------------------------------------------------------------------ payloads of the core domains

/** `tool.*` payload: free-form from external agents; the persona executor fills the typed fields. */
export interface ToolEventData {
  /** Tool name, e.g. `llm.complete`. */
  name?: string;
  /** Input preview (persona executor: the task description, cut to 200 characters). */
  input?: string;
  /** Wall time of the tool call, ms. */
  durationMs?: number;
  /** Error text of a failed call. */
  error?: string;
  [key: string]: unknown;
}

/** One provider attempt of an LLM call, as recorded in `tool.completed` / `tool.failed` by the persona executor. */
export interface ToolLlmAttempt {
  provider: string;
  outcome: string;
  reason: string | null;
  /** ms */
  latencyMs: number;
}

/** `tool.called` of an `llm.complete` call by a persona: the request as sent (for the task trace). */
export interface LlmToolCalledData extends ToolEventData {
  /** Token budget of the answer. */
  maxTokens?: number;
  /** The messages sent, each cut to 20,000 characters. */
  prompt?: { role: string; content: string }[];
}

/** `tool.completed` / `tool.failed` of an `llm.complete` call by a persona (ToolEventData with the router's figures). */
export interface LlmToolCompletedData extends ToolEventData {
  provider?: string;
  model?: string;
  /** ms, of the successful attempt */
  latencyMs?: number;
  attempts?: ToolLlmAttempt[];
  tokensIn?: number;
  tokensOut?: number;
  /** The answer, cut to 20,000 characters (completed). */
  output?: string;
  /** Why the call failed and its error code, e.g. `router/all_providers_failed` (failed). */
  reason?: string;
  code?: string;
}

/** `system.*` payload: a human-readable message plus context fields. */
export interface SystemEventData {
  message: string;
  [key: string]: unknown;
}

/** Payloads of the swarm, questions, system, security and router domains (type -> data). */
export interface CoreEventDataMap {
  /** `budgetSats` (integer sats) when the task has a budget. */
  'task.created': { description: string; createdBy: string; budgetSats?: number };
  'task.bidding': { closesAt: string; windowMs: number };
  /**
   * `bidSats` null for a direct assignment. `by` and `reassignedFrom` (the previous assignee or null) when an operator
   * assigned it (`POST /api/tasks/:id/assign`).
   */
  'task.assigned': { bidSats: number | null; direct: boolean; by?: string; reassignedFrom?: string | null };
  'task.started': EmptyData;
  /** `fraction` 0..1 or null. */
  'task.progress': { message: string; fraction: number | null };
  'task.completed': { result: string; bidSats: number | null; by: string };
  /** `from` = the status before the failure. */
  'task.failed': { reason: string; from: TaskStatus; by?: string; recovered?: boolean; /** the gone instance that was executing it (ADR 0061) */ instanceId?: string };
  'task.cancelled': { reason: string | null; by: string };
  'agent.joined': { name: string; kind: AgentKind; capabilities: string[]; personaId?: string; reason?: string };
  'agent.left': { name: string; reason: string; tasksFailed: number };
  'agent.status_changed': { from: AgentStatus | null; to: AgentStatus; reason: string };
  'agent.lifecycle':
    | { state: AgentLifecycleState; since: string; by: string }
    | { state: null; since: null; previous: AgentLifecycleState | null };
  /** Integer sats. */
  'bid.submitted': { bidSats: number; bidId: string };
  /**
   * `code` the swarm error code of the refusal (the HTTP answer is the 409); `budgetSats` (integer sats) when the code
   * is `swarm/bid_over_budget`.
   */
  'bid.rejected': { reason: string; bidSats: number; code: string; budgetSats?: number };
  /** `assignedBy` when an operator closed it early by assigning the task. */
  'auction.closed': { winnerAgentId: string | null; winningBidSats: number | null; bidCount: number; closesAt: string; assignedBy?: string };
  /** `fromAgentId` null from an operator. */
  'message.sent': { messageId: string; fromAgentId: string | null; toAgentId: string; bodyPreview: string; by: string };
  'message.delivered': { messageId: string; fromAgentId: string | null; toAgentId: string };
  'question.asked': { questionId: string; question: string; options: string[]; multiple: boolean; deadline: string | null };
  'question.answered': { questionId: string; answer: string[]; answeredBy: string };
  'question.cancelled': { questionId: string; by: string };
  'question.expired': { questionId: string; deadline: string | null };
  'tool.called': LlmToolCalledData;
  'tool.completed': LlmToolCompletedData;
  'tool.failed': LlmToolCompletedData;
  'system.info': SystemEventData;
  'system.warning': SystemEventData;
  'system.error': SystemEventData & { error: string };
  'auth.login_failed': { username: string; ip: string; reason: 'bad_credentials' | 'disabled' };
  'auth.key_created': { apiKeyId: string; label: string; role: string; prefix: string; by: string };
  'auth.key_revoked': { apiKeyId: string; label?: string; prefix?: string; by: string; reason?: string };
  'router.provider_state_changed': RouterProviderStateChangedData;
  'router.failover': RouterFailoverData;
  'router.budget_exhausted': { spentUsd: number; budgetUsd: number; day: string; reason: string };
  /** Latencies in ms. */
  'router.metrics_flushed': {
    providers: { provider: string; requests: number; failures: number; p50: number | null; p95: number | null; circuitState: string }[];
  };
}

/** Routing of the core types. */
const CORE_EVENT_SPECS = {
  'task.created': { channel: 'swarm', mobile: true },
  'task.bidding': { channel: 'swarm' },
  'task.assigned': { channel: 'swarm', mobile: true },
  'task.started': { channel: 'swarm', mobile: true },
  'task.progress': { channel: 'swarm' },
  'task.completed': { channel: 'swarm', mobile: true },
  'task.failed': { channel: 'swarm', mobile: true },
  'task.cancelled': { channel: 'swarm', mobile: true },
  'agent.joined': { channel: 'swarm', mobile: true },
  'agent.left': { channel: 'swarm', mobile: true },
  'agent.status_changed': { channel: 'swarm' },
  'agent.lifecycle': { channel: 'swarm' },
  'bid.submitted': { channel: 'swarm' },
  'bid.rejected': { channel: 'swarm' },
  'auction.closed': { channel: 'swarm' },
  'message.sent': { channel: 'swarm' },
  'message.delivered': { channel: 'swarm' },
  'question.asked': { channel: 'questions', mobile: true },
  'question.answered': { channel: 'questions', mobile: true },
  'question.cancelled': { channel: 'questions', mobile: true },
  'question.expired': { channel: 'questions', mobile: true },
  'tool.called': { channel: 'swarm', ingestible: true },
  'tool.completed': { channel: 'swarm', ingestible: true },
  'tool.failed': { channel: 'swarm', ingestible: true },
  'system.info': { channel: 'system' },
  'system.warning': { channel: 'system', mobile: true },
  'system.error': { channel: 'system', mobile: true },
  'auth.login_failed': { channel: 'security' },
  'auth.key_created': { channel: 'security' },
  'auth.key_revoked': { channel: 'security' },
  'router.provider_state_changed': { channel: 'router' },
  'router.failover': { channel: 'router' },
  'router.budget_exhausted': { channel: 'router' },
  'router.metrics_flushed': { channel: 'router' },
} as const satisfies EventSpecs<CoreEventDataMap>;

// ------------------------------------------------------------------ the whole catalogue

/** Every event type's payload (type -> data): the core domains plus ledger, memory and upgrades. */
export interface EventDataMap extends CoreEventDataMap, LedgerEventDataMap, MemoryEventDataMap, UpgradeEventDataMap {}

/** Every event type. */
export type EventType = keyof EventDataMap & string;

/** Channel routing and flags of every type: exhaustive by construction (`satisfies EventSpecs<EventDataMap>`). */
export const EVENT_SPECS = {
  ...CORE_EVENT_SPECS,
  ...LEDGER_EVENT_SPECS,
  ...MEMORY_EVENT_SPECS,
  ...UPGRADE_EVENT_SPECS,
} as const satisfies EventSpecs<EventDataMap>;

/** Every event type, in catalogue order (core, then ledger, memory, upgrades). */
export const EVENT_TYPES = Object.keys(EVENT_SPECS) as EventType[];

/** The domain channel of each event type (no default: see EVENT_SPECS). */
export const EVENT_CHANNELS: Readonly<Record<EventType, DomainChannel>> = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, EVENT_SPECS[t].channel]),
) as Record<EventType, DomainChannel>;

/** The domain channel an event type is written to. */
export function channelForType(type: EventType): DomainChannel {
  return EVENT_CHANNELS[type];
}

/** True for a type in the catalogue. */
export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(EVENT_SPECS, value);
}

/** Event types an agent (or operator script) may append through `POST /api/events`. */
export const INGESTIBLE_EVENT_TYPES = ['tool.called', 'tool.completed', 'tool.failed'] as const satisfies readonly EventType[];
export type IngestibleEventType = (typeof INGESTIBLE_EVENT_TYPES)[number];

/** Event types carried by the conflated `mobile` digest channel. */
export const MOBILE_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter(
  (t) => (EVENT_SPECS[t] as EventSpec).mobile === true,
);

/**
 * The envelope of one event of type T, exactly the `event_log` row.
 * `seq` is the public cursor (strictly increasing, commit order); `createdAt` is ISO-8601 UTC with milliseconds.
 */
export interface EventEnvelopeOf<T extends EventType> {
  seq: number;
  id: string;
  type: T;
  source: string;
  channel: DomainChannel;
  taskId: string | null;
  agentId: string | null;
  data: EventDataMap[T];
  createdAt: string;
}

/**
 * An event envelope; without T, the union over every type, so `if (e.type === 'task.assigned') e.data.bidSats`
 * narrows the payload.
 */
export type EventEnvelope<T extends EventType = EventType> = { [K in T]: EventEnvelopeOf<K> }[T];

/** What a domain service hands to the event log for one event of type T; `seq`, `id`, `channel`, `createdAt` are assigned there. */
export interface NewEventOf<T extends EventType> {
  type: T;
  source: string;
  taskId?: string | null;
  agentId?: string | null;
  data: EventDataMap[T];
}

/** A new event of any type (a union, so `data` is checked against the chosen `type`). */
export type NewEvent<T extends EventType = EventType> = { [K in T]: NewEventOf<K> }[T];

/** The data of an envelope, typed by its type (for code that already switched on `type`). */
export type EventData<T extends EventType> = EventDataMap[T];
