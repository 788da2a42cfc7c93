import { MEMORY_EVENT_TYPES } from './memory';
import { LEDGER_EVENT_TYPES } from './ledger';
import { UPGRADE_EVENT_SPECS, UPGRADE_EVENT_TYPES } from './upgrades';

/**
 * Event catalogue: every event type the product emits, the channel it is published on, and its payload shape.
 * The event envelope is the `event_log` row (BRIEF section 4/5).
 */

/** Every event type, grouped by domain. Keep `docs/events.md` in step with this list. */
export const EVENT_TYPES = [
  'task.created',
  'task.bidding',
  'task.assigned',
  'task.started',
  'task.progress',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'agent.joined',
  'agent.left',
  'agent.status_changed',
  'agent.lifecycle',
  'bid.submitted',
  'bid.rejected',
  'auction.closed',
  'message.sent',
  'message.delivered',
  'question.asked',
  'question.answered',
  'question.cancelled',
  'question.expired',
  'tool.called',
  'tool.completed',
  'tool.failed',
  'system.info',
  'system.warning',
  'system.error',
  'auth.login_failed',
  'auth.key_created',
  'auth.key_revoked',
  'router.provider_state_changed',
  'router.failover',
  'router.budget_exhausted',
  'router.metrics_flushed',
  ...MEMORY_EVENT_TYPES,
  ...LEDGER_EVENT_TYPES,
  'upgrade.proposed',
  'upgrade.approval_added',
  'upgrade.approval_resolved',
  'upgrade.approval_recorded',
  'upgrade.approved',
  'upgrade.rejected',
  'upgrade.expired',
  'upgrade.cancelled',
  'upgrade.approval_dismissed',
  'upgrade.queued',
  'upgrade.testing',
  'upgrade.test_output',
  'upgrade.applied',
  'upgrade.failed',
  'upgrade.rolled_back',
  'upgrade.retried',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Domain channels stored in `event_log.channel`. */
export const DOMAIN_CHANNELS = [
  'swarm',
  'questions',
  'system',
  'security',
  'ledger',
  'memory',
  'router',
  'upgrades',
] as const;
export type DomainChannel = (typeof DOMAIN_CHANNELS)[number];

/** The domain channel each event type is written to. */
export function channelForType(type: EventType): DomainChannel {
  const prefix = type.slice(0, type.indexOf('.'));
  switch (prefix) {
    case 'question':
      return 'questions';
    case 'system':
      return 'system';
    case 'auth':
      return 'security';
    case 'router':
      return 'router';
    case 'memory':
      return 'memory';
    case 'invoice':
    case 'payment':
    case 'hold':
    case 'ledger':
      return 'ledger';
    case 'upgrade':
      return 'upgrades';
    default:
      return 'swarm';
  }
}

/** Event types an agent (or operator script) may append through `POST /api/events`. */
export const INGESTIBLE_EVENT_TYPES = ['tool.called', 'tool.completed', 'tool.failed'] as const;
export type IngestibleEventType = (typeof INGESTIBLE_EVENT_TYPES)[number];

/** Event types carried by the conflated `mobile` digest channel. */
export const MOBILE_EVENT_TYPES: readonly EventType[] = [
  'task.created',
  'task.assigned',
  'task.started',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'agent.joined',
  'agent.left',
  'question.asked',
  'question.answered',
  'question.cancelled',
  'question.expired',
  'system.error',
  'system.warning',
  ...UPGRADE_EVENT_TYPES.filter((t) => UPGRADE_EVENT_SPECS[t].mobile),
];

/** Lifecycle transients an agent can be in (hyperhive style); `null` clears it. */
export type AgentLifecycleState = 'spawning' | 'stopping' | 'restarting' | 'joining' | 'leaving';

/**
 * The event envelope, exactly the `event_log` row.
 * `seq` is the public cursor (strictly increasing, commit order); `createdAt` is ISO-8601 UTC with milliseconds.
 */
export interface EventEnvelope<T extends EventType = EventType> {
  seq: number;
  id: string;
  type: T;
  source: string;
  channel: DomainChannel;
  taskId: string | null;
  agentId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

/** What a domain service hands to the event log; `seq`, `id`, `channel` and `createdAt` are assigned there. */
export interface NewEvent {
  type: EventType;
  source: string;
  taskId?: string | null;
  agentId?: string | null;
  data?: Record<string, unknown>;
}

/** Compile-time check: every upgrade event type is in EVENT_TYPES (fails to compile otherwise). */
export const UPGRADE_TYPES_IN_CATALOGUE: readonly EventType[] = UPGRADE_EVENT_TYPES satisfies readonly EventType[];
