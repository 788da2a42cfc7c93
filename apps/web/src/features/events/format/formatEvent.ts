import type { EventEnvelope, EventType } from '@app/contracts';
import { formatClock } from '../../../lib/time';

/** Lookups the feed can offer so lines read "forge bid 35 sats on 'write a parser…'" instead of raw ids. */
export interface FormatContext {
  /** Description of a task by id, when known. */
  taskDescription?: (taskId: string) => string | undefined;
  /** Display name of an agent by id, when known. */
  agentName?: (agentId: string) => string | undefined;
}

/** One display line of an event. Every field is plain text: render it as React text, never as HTML. */
export interface FormattedEvent {
  icon: string;
  label: string;
  text: string;
  time: string;
}

type Describe = (e: EventEnvelope, d: Reader) => string;

interface Spec {
  icon: string;
  label: string;
  describe: Describe;
}

/** Reads untrusted `data` defensively: only strings and finite numbers come out, truncated to one line. */
class Reader {
  constructor(
    private readonly e: EventEnvelope,
    private readonly ctx: FormatContext,
  ) {}

  /** The first of `keys` that holds a string (or number), on one line, cut to `max` characters. */
  str(keys: string[], max = 80): string {
    const data = (this.e.data && typeof this.e.data === 'object' ? this.e.data : {}) as Record<string, unknown>;
    for (const k of keys) {
      const v = data[k];
      if (typeof v === 'string' && v.trim()) return clip(v, max);
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      if (typeof v === 'boolean') return String(v);
    }
    return '';
  }

  num(keys: string[]): number | null {
    const data = (this.e.data && typeof this.e.data === 'object' ? this.e.data : {}) as Record<string, unknown>;
    for (const k of keys) {
      const v = data[k];
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v === 'string' && v.trim() && Number.isFinite(Number(v))) return Number(v);
    }
    return null;
  }

  list(keys: string[], max = 60): string {
    const data = (this.e.data && typeof this.e.data === 'object' ? this.e.data : {}) as Record<string, unknown>;
    for (const k of keys) {
      const v = data[k];
      if (Array.isArray(v)) return clip(v.filter((x) => typeof x === 'string' || typeof x === 'number').join(', '), max);
      if (typeof v === 'string' && v.trim()) return clip(v, max);
    }
    return '';
  }

  /** Agent display name: data name fields, the context lookup, then the id. */
  agent(idKeys: string[] = ['agentId'], nameKeys: string[] = ['agentName', 'name']): string {
    const named = this.str(nameKeys, 40);
    if (named) return named;
    const id = this.str(idKeys, 64) || (idKeys.includes('agentId') ? (this.e.agentId ?? '') : '');
    if (!id) return '';
    return clip(this.ctx.agentName?.(id) ?? id, 40);
  }

  /** Quoted task description: data fields, the context lookup, then the short id. */
  task(): string {
    const desc = this.str(['description', 'taskDescription', 'title'], 50);
    if (desc) return `'${desc}'`;
    const id = this.e.taskId ?? this.str(['taskId'], 64);
    if (!id) return 'a task';
    const known = this.ctx.taskDescription?.(id);
    return known ? `'${clip(known, 50)}'` : `task ${id.slice(0, 8)}`;
  }
}

/** One line, at most `max` characters (with an ellipsis). */
export function clip(value: string, max: number): string {
  const line = value.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

const join = (...parts: string[]) => parts.filter(Boolean).join(' ');
const sats = (n: number | null) => (n === null ? '' : `${n} sats`);
const paren = (s: string) => (s ? `(${s})` : '');
const colon = (head: string, tail: string) => (tail ? `${head}: ${tail}` : head);
const up = (d: Reader) => (d.str(['title'], 50) ? `upgrade '${d.str(['title'], 50)}'` : 'an upgrade');
const lines = (d: Reader) => {
  const a = d.num(['linesAdded']);
  const r = d.num(['linesRemoved']);
  return a === null && r === null ? '' : `+${a ?? 0} −${r ?? 0}`;
};

/**
 * Icon, label and one-line description for every event type (the compiler checks the list is complete).
 * Icons are plain Unicode symbols present in common system fonts (no emoji font needed).
 */
export const EVENT_SPECS: Record<EventType, Spec> = {
  'task.created': { icon: '✎', label: 'Task created', describe: (_e, d) => join('new task', d.task()) },
  'task.bidding': {
    icon: '⚖',
    label: 'Auction open',
    describe: (_e, d) => {
      const closes = formatClock(d.str(['auctionClosesAt', 'closesAt']));
      return join('bidding open on', d.task(), closes ? `until ${closes}` : '');
    },
  },
  'task.assigned': {
    icon: '➜',
    label: 'Task assigned',
    describe: (_e, d) => join(d.task(), '→', d.agent(['agentId', 'assignedAgentId']) || 'an agent', paren(sats(d.num(['bidSats', 'winningBidSats'])))),
  },
  'task.started': { icon: '▶', label: 'Task started', describe: (_e, d) => join(d.agent() || 'agent', 'started', d.task()) },
  'task.progress': {
    icon: '◔',
    label: 'Progress',
    describe: (_e, d) => {
      const f = d.num(['fraction', 'progress']);
      const pct = f === null ? '' : `${Math.round(Math.min(1, Math.max(0, f)) * 100)}%`;
      return colon(join(d.agent() || 'agent', 'on', d.task()), join(d.str(['message'], 60), paren(pct)));
    },
  },
  'task.completed': {
    icon: '✔',
    label: 'Task completed',
    describe: (_e, d) => colon(join(d.agent() || 'agent', 'completed', d.task()), d.str(['result', 'resultPreview'], 60)),
  },
  'task.failed': { icon: '✖', label: 'Task failed', describe: (_e, d) => colon(join(d.task(), 'failed'), d.str(['reason', 'error', 'failureReason'], 60)) },
  'task.cancelled': { icon: '⊘', label: 'Task cancelled', describe: (_e, d) => colon(join(d.task(), 'cancelled'), d.str(['reason'], 60)) },
  'agent.joined': {
    icon: '⊕',
    label: 'Agent joined',
    describe: (_e, d) => join(d.agent() || 'new agent', 'joined', paren(d.str(['personaId']) ? `persona ${d.str(['personaId'])}` : d.str(['kind'])), d.list(['capabilities']) ? `· ${d.list(['capabilities'])}` : ''),
  },
  'agent.left': { icon: '⊖', label: 'Agent left', describe: (_e, d) => join(d.agent() || 'agent', 'left', paren(d.str(['reason'], 40))) },
  'agent.status_changed': {
    icon: '◐',
    label: 'Status',
    describe: (_e, d) => {
      const from = d.str(['from', 'previous', 'previousStatus'], 20);
      const to = d.str(['status', 'to'], 20);
      return join(d.agent() || 'agent', to ? `is now ${to}` : 'changed status', from ? `(was ${from})` : '');
    },
  },
  'agent.lifecycle': {
    icon: '⚙',
    label: 'Lifecycle',
    describe: (_e, d) => {
      const state = d.str(['lifecycle', 'state'], 20);
      return join(d.agent() || 'agent', state ? `${state}…` : 'ready');
    },
  },
  'bid.submitted': {
    icon: '◆',
    label: 'Bid',
    describe: (_e, d) => join(d.agent() || 'agent', 'bid', sats(d.num(['bidSats', 'amountSats'])) || '?', 'on', d.task()),
  },
  'bid.rejected': {
    icon: '◇',
    label: 'Bid rejected',
    describe: (_e, d) => colon(join(d.agent() || 'agent', 'bid', sats(d.num(['bidSats', 'amountSats'])), 'rejected on', d.task()), d.str(['reason', 'code'], 60)),
  },
  'auction.closed': {
    icon: '⚑',
    label: 'Auction closed',
    describe: (_e, d) => {
      const winner = d.agent(['winnerAgentId', 'winnerId', 'agentId'], ['winnerName', 'agentName']);
      const bids = d.num(['bidCount', 'bids']);
      const result = winner ? `${winner} won at ${sats(d.num(['winningBidSats', 'bidSats'])) || '?'}` : d.str(['reason'], 40) || 'no winner';
      return join('auction on', d.task(), 'closed:', result, bids === null ? '' : `(${bids} bids)`);
    },
  },
  'message.sent': {
    icon: '✉',
    label: 'Message',
    describe: (_e, d) => colon(join(d.agent(['fromAgentId'], ['fromName']) || 'operator', '→', d.agent(['toAgentId'], ['toName']) || 'agent'), d.str(['bodyPreview', 'body', 'preview'], 60)),
  },
  'message.delivered': {
    icon: '✓',
    label: 'Delivered',
    describe: (_e, d) => join('message', d.str(['messageId'], 8), 'delivered to', d.agent(['toAgentId', 'agentId'], ['toName']) || 'agent'),
  },
  'question.asked': { icon: '?', label: 'Question', describe: (_e, d) => colon(join(d.agent() || 'agent', 'asks'), d.str(['question'], 70)) },
  'question.answered': {
    icon: '✍',
    label: 'Answered',
    describe: (_e, d) => join(colon(join('answered', d.str(['question'], 40) ? `'${d.str(['question'], 40)}'` : ''), d.list(['answer'])), d.str(['answeredBy'], 30) ? `by ${d.str(['answeredBy'], 30)}` : ''),
  },
  'question.cancelled': { icon: '⊘', label: 'Question cancelled', describe: (_e, d) => join('cancelled', d.str(['question'], 60) ? `'${d.str(['question'], 60)}'` : 'a question') },
  'question.expired': { icon: '⚐', label: 'Question expired', describe: (_e, d) => join('expired unanswered', d.str(['question'], 60) ? `'${d.str(['question'], 60)}'` : '') },
  // tool.* data carries the tool's name in `name`, so the agent is looked up by id only
  'tool.called': {
    icon: '⚒',
    label: 'Tool call',
    describe: (_e, d) => colon(join(d.agent(['agentId'], ['agentName']) || 'agent', 'called', d.str(['tool', 'name'], 40) || 'a tool'), d.str(['input', 'args', 'query'], 50)),
  },
  'tool.completed': {
    icon: '☑',
    label: 'Tool done',
    describe: (_e, d) => {
      const ms = d.num(['durationMs']);
      return join(d.str(['tool', 'name'], 40) || 'tool', 'completed', d.agent(['agentId'], ['agentName']) ? `for ${d.agent(['agentId'], ['agentName'])}` : '', ms === null ? '' : `in ${ms} ms`);
    },
  },
  'tool.failed': {
    icon: '☒',
    label: 'Tool failed',
    describe: (_e, d) => colon(join(d.str(['tool', 'name'], 40) || 'tool', 'failed', d.agent(['agentId'], ['agentName']) ? `for ${d.agent(['agentId'], ['agentName'])}` : ''), d.str(['error', 'reason', 'message'], 60)),
  },
  'system.info': { icon: 'ℹ', label: 'Info', describe: (_e, d) => d.str(['message', 'text'], 90) || 'system info' },
  'system.warning': { icon: '⚠', label: 'Warning', describe: (_e, d) => d.str(['message', 'text'], 90) || 'system warning' },
  'system.error': { icon: '‼', label: 'Error', describe: (_e, d) => d.str(['message', 'error', 'text'], 90) || 'system error' },
  'auth.login_failed': {
    icon: '⊗',
    label: 'Login failed',
    describe: (_e, d) => join('login failed for', d.str(['username'], 40) ? `'${d.str(['username'], 40)}'` : 'unknown user', paren(d.str(['reason'], 30)), d.str(['ip'], 45) ? `from ${d.str(['ip'], 45)}` : ''),
  },
  'auth.key_created': {
    icon: '⚷',
    label: 'Key created',
    describe: (_e, d) => join('API key', d.str(['label'], 40) ? `'${d.str(['label'], 40)}'` : '', d.str(['prefix'], 12) ? `${d.str(['prefix'], 12)}…` : '', d.str(['role'], 12) ? `role ${d.str(['role'], 12)}` : '', 'created'),
  },
  'auth.key_revoked': {
    icon: '✂',
    label: 'Key revoked',
    describe: (_e, d) => join('API key', d.str(['label'], 40) ? `'${d.str(['label'], 40)}'` : '', d.str(['prefix'], 12) ? `${d.str(['prefix'], 12)}…` : '', 'revoked'),
  },
  'router.provider_state_changed': {
    icon: '⇄',
    label: 'Provider',
    describe: (_e, d) => {
      const field = d.str(['field'], 20);
      const from = d.str(['from', 'previous'], 20);
      const to = d.str(['to', 'state', 'status'], 20);
      const change = from || to ? `${from || '?'} → ${to || '?'}` : 'changed';
      return colon(join('provider', d.str(['provider', 'providerId', 'name'], 40) || '?', field, change), d.str(['reason'], 50));
    },
  },
  'router.failover': {
    icon: '⇆',
    label: 'Failover',
    describe: (_e, d) => colon(join('failover', d.str(['from', 'fromProvider'], 30) || '?', '→', d.str(['to', 'toProvider'], 30) || 'none'), d.str(['reason', 'error'], 50)),
  },
  'router.budget_exhausted': {
    icon: '⛁',
    label: 'Budget spent',
    describe: (_e, d) => {
      const spent = d.num(['spentTodayUsd', 'spentUsd', 'spent']);
      const limit = d.num(['dailyUsd', 'budgetUsd', 'cloudDailyBudgetUsd', 'limitUsd']);
      const money = spent !== null && limit !== null ? `($${spent.toFixed(2)} of $${limit.toFixed(2)})` : limit !== null ? `($${limit.toFixed(2)} a day)` : '';
      return join('cloud budget exhausted', d.str(['provider'], 30) ? `at ${d.str(['provider'], 30)}` : '', money, d.str(['message', 'reason'], 50));
    },
  },
  'memory.stored': {
    icon: '◆',
    label: 'Remembered',
    describe: (_e, d) => join(d.str(['source'], 30), 'stored a', d.str(['type'], 20), 'memory:', `'${d.str(['preview'], 60)}'`),
  },
  'memory.fact_superseded': {
    icon: '↻',
    label: 'Fact updated',
    describe: (_e, d) => join('fact', `${d.str(['subject'], 30)}/${d.str(['factKey'], 30)}`, 'superseded'),
  },
  'memory.deleted': { icon: '✕', label: 'Memory deleted', describe: (_e, d) => join(d.str(['type'], 20), 'memory', d.str(['entryId'], 8), 'deleted') },
  'memory.reindex_started': {
    icon: '⟳',
    label: 'Re-embedding',
    describe: (_e, d) => join('re-embedding', String(d.num(['total']) ?? ''), 'memories with', d.str(['model'], 40)),
  },
  'memory.reindex_progress': {
    icon: '⟳',
    label: 'Re-embedding',
    describe: (_e, d) => join('re-embedded', `${d.num(['done']) ?? 0}/${d.num(['total']) ?? 0}`, 'with', d.str(['model'], 40)),
  },
  'memory.reindex_completed': {
    icon: '✓',
    label: 'Re-embedded',
    describe: (_e, d) => join('re-embedding done:', String(d.num(['embedded']) ?? 0), 'memories with', d.str(['model'], 40)),
  },
  'router.metrics_flushed': {
    icon: '☰',
    label: 'Metrics',
    describe: (_e, d) => {
      const n = d.num(['providers', 'providerCount', 'count', 'rows']);
      return join('router metrics flushed', n === null ? '' : `(${n} providers)`);
    },
  },
  // ledger (channel `ledger`, operators only): amounts arrive in msat and are shown in sats
  'invoice.created': { icon: '⚡', label: 'Invoice', describe: (_e, d) => join('invoice for', msatText(d.num(['amountMsat'])), d.str(['memo'], 40) ? `"${d.str(['memo'], 40)}"` : '') },
  'invoice.settled': { icon: '⚡', label: 'Received', describe: (_e, d) => join('received', msatText(d.num(['amountMsat'])), 'into', d.str(['accountId'], 40)) },
  'invoice.expired': { icon: '⌛', label: 'Invoice expired', describe: (_e, d) => join('invoice for', msatText(d.num(['amountMsat'])), 'expired unpaid') },
  'payment.in_flight': { icon: '➚', label: 'Paying', describe: (_e, d) => join('paying', msatText(d.num(['amountMsat'])), 'from', d.str(['accountId'], 40)) },
  'payment.sent': { icon: '➚', label: 'Paid', describe: (_e, d) => join('paid', msatText(d.num(['amountMsat'])), paren(join('fee', msatText(d.num(['feeMsat'])) || '0 sats'))) },
  'payment.failed': { icon: '✗', label: 'Payment failed', describe: (_e, d) => colon(join('payment of', msatText(d.num(['amountMsat']))), d.str(['reason'], 50)) },
  'hold.created': { icon: '⧗', label: 'Payout held', describe: (_e, d) => join(msatText(d.num(['amountMsat'])), 'held for', d.agent(['agentId']) || d.str(['creditAccountId'], 40)) },
  'hold.posted': { icon: '✓', label: 'Payout', describe: (_e, d) => join('paid', msatText(d.num(['amountMsat'])), 'to', d.agent(['agentId']) || d.str(['creditAccountId'], 40)) },
  'hold.voided': { icon: '↺', label: 'Payout voided', describe: (_e, d) => colon(join(msatText(d.num(['amountMsat'])), 'released'), d.str(['reason'], 50)) },
  'ledger.reconciliation_drift': { icon: '⚠', label: 'Ledger drift', describe: (_e, d) => colon('ledger differs from the node', d.str(['summary'], 60)) },
  'upgrade.proposed': {
    icon: '⇪',
    label: 'Upgrade proposed',
    describe: (_e, d) => join(d.str(['by'], 40) || 'someone', 'proposed', up(d), paren(lines(d))),
  },
  'upgrade.approval_added': { icon: '☐', label: 'Needs approval', describe: (_e, d) => join(up(d), 'waits for approval', d.str(['requiresAdmin']) === 'true' ? '(admin)' : '') },
  'upgrade.approval_resolved': { icon: '☑', label: 'Approval resolved', describe: (_e, d) => join(up(d), d.str(['outcome'], 20) || 'resolved', d.str(['by'], 40) ? `by ${d.str(['by'], 40)}` : '') },
  'upgrade.approval_recorded': {
    icon: '✓',
    label: 'Approval',
    describe: (_e, d) => join(d.str(['by'], 40), 'approved', up(d), d.num(['approvals']) !== null ? `(${d.num(['approvals'])}/${d.num(['requiredApprovals']) ?? '?'})` : ''),
  },
  'upgrade.approved': { icon: '✔', label: 'Upgrade approved', describe: (_e, d) => join(up(d), 'approved', d.str(['by'], 40) ? `by ${d.str(['by'], 40)}` : '') },
  'upgrade.rejected': { icon: '✖', label: 'Upgrade rejected', describe: (_e, d) => colon(join(up(d), 'rejected by', d.str(['by'], 40) || '?'), d.str(['comment'], 60)) },
  'upgrade.expired': { icon: '⌛', label: 'Upgrade expired', describe: (_e, d) => join(up(d), 'expired undecided') },
  'upgrade.cancelled': { icon: '⊘', label: 'Upgrade cancelled', describe: (_e, d) => join(up(d), 'cancelled', d.str(['by'], 40) ? `by ${d.str(['by'], 40)}` : '') },
  'upgrade.approval_dismissed': { icon: '↺', label: 'Approval dismissed', describe: (_e, d) => join(up(d), 'changed: approvals dismissed, back to review') },
  'upgrade.queued': { icon: '☰', label: 'Upgrade queued', describe: (_e, d) => join(up(d), 'queued', d.num(['position']) !== null ? `#${d.num(['position'])}` : '') },
  'upgrade.testing': { icon: '⚙', label: 'Upgrade testing', describe: (_e, d) => colon(join('testing', up(d), d.num(['attempt']) !== null ? `attempt ${d.num(['attempt'])}` : ''), d.str(['reason'], 50)) },
  'upgrade.test_output': { icon: '›', label: 'Test output', describe: (_e, d) => colon('test output', d.str(['chunk'], 70)) },
  'upgrade.applied': { icon: '⇧', label: 'Upgrade applied', describe: (_e, d) => join(up(d), 'applied at', d.str(['newHead'], 12)) },
  'upgrade.failed': { icon: '✗', label: 'Upgrade failed', describe: (_e, d) => colon(join(up(d), 'failed', paren(d.str(['reason'], 20))), d.list(['conflicts']) || d.str(['message'], 60)) },
  'upgrade.rolled_back': { icon: '↶', label: 'Rolled back', describe: (_e, d) => join(up(d), 'rolled back to', d.str(['to'], 12), '(health check failed)') },
  'upgrade.retried': { icon: '↻', label: 'Upgrade retried', describe: (_e, d) => join(up(d), 'retried by', d.str(['by'], 40) || '?') },
};

/** msat shown as sats (3 decimals only when not whole). */
function msatText(msat: number | null): string {
  if (msat === null) return '';
  const sats = msat / 1000;
  return `${Number.isInteger(sats) ? sats : sats.toFixed(3)} sats`;
}

const FALLBACK: Spec = { icon: '•', label: '', describe: (_e, d) => d.str(['message', 'reason', 'description'], 60) };

/** The icon, label, one-line text and HH:MM:SS time of an event. Never throws on odd data. */
export function formatEvent(e: EventEnvelope, ctx: FormatContext = {}): FormattedEvent {
  const spec = (EVENT_SPECS as Record<string, Spec | undefined>)[e.type] ?? { ...FALLBACK, label: String(e.type) };
  let text: string;
  try {
    text = spec.describe(e, new Reader(e, ctx));
  } catch {
    text = '';
  }
  return { icon: spec.icon, label: spec.label, text: text.replace(/\s+/g, ' ').trim(), time: formatClock(e.createdAt) };
}
