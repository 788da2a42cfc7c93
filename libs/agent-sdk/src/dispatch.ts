/**
 * What one realtime frame means for an agent: which tasks to offer, which assignments to run, whether to fetch
 * messages, which questions ended, which upgrade events to hand on. Pure (no I/O), so the narrowing by event type is unit-tested on its own;
 * {@link AgentClient} acts on the plan.
 */
import { UPGRADE_EVENT_TYPES, type EventEnvelope, type EventType, type UpgradeEventType } from '@app/contracts';

/** Event types after which a task is no longer open for bids. */
export const AUCTION_OVER_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'auction.closed',
  'task.assigned',
  'task.cancelled',
  'task.completed',
  'task.failed',
]);

/** The catalogue's `upgrade.*` types (from `UPGRADE_EVENT_SPECS`). */
const UPGRADE_TYPES: ReadonlySet<string> = new Set<string>(UPGRADE_EVENT_TYPES);

/** True when `e` is one of the catalogue's `upgrade.*` events (narrows the envelope to those payloads). */
export function isUpgradeEvent(e: EventEnvelope): e is EventEnvelope<UpgradeEventType> {
  return UPGRADE_TYPES.has(e.type);
}

/** A question of ours that ended, as read from `question.answered` / `.cancelled` / `.expired`. */
export interface EndedQuestion {
  questionId: string;
  status: 'answered' | 'cancelled' | 'expired';
  /** The chosen option(s) of `question.answered` (`data.answer`), or null when the payload carries no usable answer. */
  answer: string[] | null;
}

/** The actions a frame calls for. */
export interface FramePlan {
  /** `task.bidding` whose auction did not end later in the same frame: `closesAt` from the event (ISO), if valid. */
  offers: { taskId: string; closesAt: string | null }[];
  /** `task.assigned` to this agent (the assignee is the envelope's `agentId`). */
  assigned: string[];
  /** A `message.sent` to this agent arrived (its `data.toAgentId`), so undelivered messages should be fetched. */
  messages: boolean;
  /** Question ends with a `data.questionId`. */
  questions: EndedQuestion[];
  /** A question end without a usable `questionId` (an older server): re-read every pending question. */
  recheckAllQuestions: boolean;
  /**
   * `upgrade.*` events received on this agent's own channel (`agent:<ownId>`: news about its own proposals), in
   * order, as received, for {@link AgentClient.onUpgradeEvent} handlers. The same types on other channels are not ours.
   */
  upgrades: EventEnvelope<UpgradeEventType>[];
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const isoOrNull = (v: unknown): string | null => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const answerOf = (v: unknown): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null);

/**
 * Plans the reaction to `events` (already de-duplicated, seq order) received on `channel` by agent `ownId`.
 * Reads the payloads the catalogue declares (`task.bidding.closesAt`, `message.sent.toAgentId`,
 * `question.*.questionId`, `question.answered.answer`) and checks them at run time (the wire is not trusted).
 */
export function planFrame(events: readonly EventEnvelope[], channel: string, ownId: string | null): FramePlan {
  const plan: FramePlan = { offers: [], assigned: [], messages: false, questions: [], recheckAllQuestions: false, upgrades: [] };
  // Highest seq at which each task's auction ended within this frame (replays often carry bidding + close together).
  const over = new Map<string, number>();
  for (const e of events) if (e.taskId && AUCTION_OVER_TYPES.has(e.type)) over.set(e.taskId, Math.max(over.get(e.taskId) ?? 0, e.seq));
  const question = (questionId: unknown, status: EndedQuestion['status'], answer: string[] | null) => {
    const id = str(questionId);
    if (id) plan.questions.push({ questionId: id, status, answer });
    else plan.recheckAllQuestions = true;
  };
  for (const received of events) {
    // The wire is not trusted: a payload that is not an object reads as one without fields.
    const e = isRecord(received.data) ? received : ({ ...received, data: {} } as unknown as EventEnvelope);
    switch (e.type) {
      case 'task.bidding':
        if (e.taskId && !((over.get(e.taskId) ?? 0) > e.seq)) plan.offers.push({ taskId: e.taskId, closesAt: isoOrNull(e.data.closesAt) });
        break;
      case 'task.assigned':
        if (e.taskId && ownId !== null && e.agentId === ownId) plan.assigned.push(e.taskId);
        break;
      case 'message.sent': {
        const to = str(e.data.toAgentId);
        // an older server without toAgentId: a message on our own agent channel is ours
        if ((ownId !== null && to === ownId) || (to === null && channel === `agent:${ownId}`)) plan.messages = true;
        break;
      }
      case 'question.answered':
        question(e.data.questionId, 'answered', answerOf(e.data.answer));
        break;
      case 'question.cancelled':
        question(e.data.questionId, 'cancelled', null);
        break;
      case 'question.expired':
        question(e.data.questionId, 'expired', null);
        break;
      default:
        if (isUpgradeEvent(received) && ownId !== null && channel === `agent:${ownId}`) plan.upgrades.push(received);
        break;
    }
  }
  return plan;
}
