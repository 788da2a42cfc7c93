import type { EventDataMap, EventEnvelope, EventType } from '@app/contracts';
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

/**
 * The field names the catalogue declares for a payload (index signatures such as `ToolEventData`'s
 * `[key: string]: unknown` left out, distributed over unions such as `agent.lifecycle`'s set/cleared shapes).
 * Reading a field through {@link Fields} with a name the catalogue does not declare does not compile.
 */
export type DeclaredField<D> = D extends unknown
  ? keyof { [K in keyof D as string extends K ? never : number extends K ? never : K]: D[K] } & string
  : never;

/**
 * Typed, defensive access to one event's `data`. The key is checked against `EventDataMap[T]` at compile time;
 * the value is still checked at run time (agents send free-form `tool.*` data, an older server other shapes):
 * only strings, finite numbers (and, where asked, booleans) come out, on one line and clipped.
 */
export class Fields<T extends EventType> {
  private readonly data: Readonly<Record<string, unknown>>;

  constructor(data: unknown) {
    this.data = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  }

  /** A non-blank string (one line, at most `max` characters) or a finite number as text; '' otherwise. */
  text(key: DeclaredField<EventDataMap[T]>, max = 80): string {
    const v = this.data[key];
    if (typeof v === 'string' && v.trim()) return clip(v, max);
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    return '';
  }

  /** Like {@link text}, and booleans as `true` / `false` (fields typed `string | boolean`). */
  value(key: DeclaredField<EventDataMap[T]>, max = 80): string {
    const v = this.data[key];
    return typeof v === 'boolean' ? String(v) : this.text(key, max);
  }

  /** A finite number, or null. */
  num(key: DeclaredField<EventDataMap[T]>): number | null {
    const v = this.data[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }

  /** True only for the boolean `true`. */
  flag(key: DeclaredField<EventDataMap[T]>): boolean {
    return this.data[key] === true;
  }

  /** The string / finite-number items of an array field, joined with ', ' and clipped; '' otherwise. */
  list(key: DeclaredField<EventDataMap[T]>, max = 60): string {
    const v = this.data[key];
    if (!Array.isArray(v)) return '';
    return clip(v.filter((x) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x))).join(', '), max);
  }

  /** The length of an array field, or null. */
  count(key: DeclaredField<EventDataMap[T]>): number | null {
    const v = this.data[key];
    return Array.isArray(v) ? v.length : null;
  }

  /** The first 8 characters of an id field (no ellipsis), or ''. */
  shortId(key: DeclaredField<EventDataMap[T]>): string {
    const v = this.text(key, 64);
    return v.slice(0, 8);
  }
}

/** Names of the envelope's task and agents, through the {@link FormatContext} lookups. */
export class Names {
  constructor(
    private readonly e: EventEnvelope,
    private readonly ctx: FormatContext,
  ) {}

  /** Display name of an agent id ('' for no id), clipped to 40 characters. */
  agent(id: string): string {
    if (!id) return '';
    return clip(this.ctx.agentName?.(id) ?? id, 40);
  }

  /** Display name of the envelope's agent (`agentId`), or ''. */
  self(): string {
    return this.agent(typeof this.e.agentId === 'string' ? this.e.agentId : '');
  }

  /** Quoted description of the envelope's task (context lookup), else `task <short id>`, else `a task`. */
  task(): string {
    const id = typeof this.e.taskId === 'string' ? this.e.taskId : '';
    if (!id) return 'a task';
    const known = this.ctx.taskDescription?.(id);
    return known ? quote(clip(known, 50)) : `task ${id.slice(0, 8)}`;
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
const quote = (s: string) => (s ? `'${s}'` : '');
const by = (s: string) => (s ? `by ${s}` : '');
const usd = (n: number) => `$${n.toFixed(2)}`;

/** How one event type is shown: `describe` reads the typed payload of exactly that type. */
export interface EventFormat<T extends EventType> {
  icon: string;
  label: string;
  describe: (d: Fields<T>, n: Names) => string;
}

/** One format per event type, each typed by its own payload. */
export type EventFormats = { readonly [K in EventType]: EventFormat<K> };

/** `upgrade 'title'`, or `an upgrade` without a title. */
const upgrade = (title: string) => (title ? `upgrade ${quote(title)}` : 'an upgrade');

/**
 * An amount in msat (the ledger's unit) shown in sats: whole sats as an integer, else with three decimals
 * (1 sat = 1000 msat); '' for no amount.
 */
export function msatAsSats(msat: number | null): string {
  if (msat === null) return '';
  const sign = msat < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(msat));
  const whole = Math.floor(abs / 1000);
  const rest = abs % 1000;
  return `${sign}${whole}${rest === 0 ? '' : `.${String(rest).padStart(3, '0')}`} sats`;
}

/**
 * Icon, label and one-line description for every event type, reading the fields `EventDataMap` declares (the
 * compiler checks both that every type has a format and that every field read exists in its payload).
 * Icons are plain Unicode symbols present in common system fonts (no emoji font needed).
 */
export const EVENT_SPECS: EventFormats = {
  'task.created': { icon: '✎', label: 'Task created', describe: (d, n) => join('new task', quote(d.text('description', 50)) || n.task()) },
  'task.bidding': {
    icon: '⚖',
    label: 'Auction open',
    describe: (d, n) => {
      const closes = formatClock(d.text('closesAt', 40));
      return join('bidding open on', n.task(), closes ? `until ${closes}` : '');
    },
  },
  'task.assigned': {
    icon: '➜',
    label: 'Task assigned',
    describe: (d, n) => join(n.task(), '→', n.self() || 'an agent', paren(d.flag('direct') ? 'direct' : sats(d.num('bidSats')))),
  },
  'task.started': { icon: '▶', label: 'Task started', describe: (_d, n) => join(n.self() || 'agent', 'started', n.task()) },
  'task.progress': {
    icon: '◔',
    label: 'Progress',
    describe: (d, n) => {
      const f = d.num('fraction');
      const pct = f === null ? '' : `${Math.round(Math.min(1, Math.max(0, f)) * 100)}%`;
      return colon(join(n.self() || 'agent', 'on', n.task()), join(d.text('message', 60), paren(pct)));
    },
  },
  'task.completed': {
    icon: '✔',
    label: 'Task completed',
    describe: (d, n) => colon(join(n.self() || 'agent', 'completed', n.task(), paren(sats(d.num('bidSats')))), d.text('result', 60)),
  },
  'task.failed': {
    icon: '✖',
    label: 'Task failed',
    describe: (d, n) => colon(join(n.task(), 'failed', d.flag('recovered') ? '(restart recovery)' : ''), d.text('reason', 60)),
  },
  'task.cancelled': {
    icon: '⊘',
    label: 'Task cancelled',
    describe: (d, n) => colon(join(n.task(), 'cancelled', by(d.text('by', 30))), d.text('reason', 60)),
  },
  'agent.joined': {
    icon: '⊕',
    label: 'Agent joined',
    describe: (d, n) => {
      const persona = d.text('personaId', 20);
      const caps = d.list('capabilities');
      return join(d.text('name', 40) || n.self() || 'new agent', 'joined', paren(persona ? `persona ${persona}` : d.text('kind', 20)), caps ? `· ${caps}` : '');
    },
  },
  'agent.left': {
    icon: '⊖',
    label: 'Agent left',
    describe: (d, n) => {
      const failed = d.num('tasksFailed');
      return join(d.text('name', 40) || n.self() || 'agent', 'left', paren(d.text('reason', 40)), failed ? `· ${failed} task(s) failed` : '');
    },
  },
  'agent.status_changed': {
    icon: '◐',
    label: 'Status',
    describe: (d, n) => {
      const from = d.text('from', 20);
      const to = d.text('to', 20);
      return join(n.self() || 'agent', to ? `is now ${to}` : 'changed status', from ? `(was ${from})` : '');
    },
  },
  'agent.lifecycle': {
    icon: '⚙',
    label: 'Lifecycle',
    describe: (d, n) => {
      const state = d.text('state', 20);
      if (state) return join(n.self() || 'agent', `${state}…`);
      const previous = d.text('previous', 20);
      return join(n.self() || 'agent', 'ready', previous ? `(${previous} done)` : '');
    },
  },
  'bid.submitted': {
    icon: '◆',
    label: 'Bid',
    describe: (d, n) => join(n.self() || 'agent', 'bid', sats(d.num('bidSats')) || '?', 'on', n.task()),
  },
  'bid.rejected': {
    icon: '◇',
    label: 'Bid rejected',
    describe: (d, n) =>
      colon(join(n.self() || 'agent', 'bid', sats(d.num('bidSats')), 'rejected on', n.task()), join(d.text('reason', 60), paren(d.text('code', 40)))),
  },
  'auction.closed': {
    icon: '⚑',
    label: 'Auction closed',
    describe: (d, n) => {
      const winner = n.agent(d.text('winnerAgentId', 64));
      const bids = d.num('bidCount');
      const result = winner ? `${winner} won at ${sats(d.num('winningBidSats')) || '?'}` : 'no winner';
      return join('auction on', n.task(), 'closed:', result, bids === null ? '' : `(${bids} bids)`);
    },
  },
  'message.sent': {
    icon: '✉',
    label: 'Message',
    describe: (d, n) => {
      const from = n.agent(d.text('fromAgentId', 64)) || d.text('by', 30) || 'operator';
      const to = n.agent(d.text('toAgentId', 64)) || n.self() || 'agent';
      return colon(join(from, '→', to), d.text('bodyPreview', 60));
    },
  },
  'message.delivered': {
    icon: '✓',
    label: 'Delivered',
    describe: (d, n) => join('message', d.shortId('messageId'), 'delivered to', n.agent(d.text('toAgentId', 64)) || n.self() || 'agent'),
  },
  'question.asked': {
    icon: '?',
    label: 'Question',
    describe: (d, n) => colon(join(n.self() || 'agent', 'asks'), join(d.text('question', 70), paren(d.list('options', 40)))),
  },
  'question.answered': {
    icon: '✍',
    label: 'Answered',
    describe: (d) => colon(join('question', d.shortId('questionId'), 'answered', by(d.text('answeredBy', 30))), d.list('answer')),
  },
  'question.cancelled': {
    icon: '⊘',
    label: 'Question cancelled',
    describe: (d) => join('question', d.shortId('questionId'), 'cancelled', by(d.text('by', 30))),
  },
  'question.expired': {
    icon: '⚐',
    label: 'Question expired',
    describe: (d) => join('question', d.shortId('questionId'), 'expired unanswered'),
  },
  // tool.* data carries the tool's name in `name` (not the agent's), so the agent comes from the envelope
  'tool.called': {
    icon: '⚒',
    label: 'Tool call',
    describe: (d, n) => colon(join(n.self() || 'agent', 'called', d.text('name', 40) || 'a tool'), d.text('input', 50)),
  },
  'tool.completed': {
    icon: '☑',
    label: 'Tool done',
    describe: (d, n) => {
      const ms = d.num('durationMs') ?? d.num('latencyMs');
      const model = [d.text('provider', 30), d.text('model', 40)].filter(Boolean).join(' ');
      return join(d.text('name', 40) || 'tool', 'completed', n.self() ? `for ${n.self()}` : '', ms === null ? '' : `in ${ms} ms`, paren(model));
    },
  },
  'tool.failed': {
    icon: '☒',
    label: 'Tool failed',
    describe: (d, n) => colon(join(d.text('name', 40) || 'tool', 'failed', n.self() ? `for ${n.self()}` : ''), d.text('error', 60)),
  },
  'system.info': { icon: 'ℹ', label: 'Info', describe: (d) => d.text('message', 90) || 'system info' },
  'system.warning': { icon: '⚠', label: 'Warning', describe: (d) => d.text('message', 90) || 'system warning' },
  'system.error': {
    icon: '‼',
    label: 'Error',
    describe: (d) => {
      const message = d.text('message', 90);
      const error = d.text('error', 60);
      return colon(message || 'system error', error === message ? '' : error);
    },
  },
  'auth.login_failed': {
    icon: '⊗',
    label: 'Login failed',
    describe: (d) => {
      const ip = d.text('ip', 45);
      return join('login failed for', quote(d.text('username', 40)) || 'unknown user', paren(d.text('reason', 30)), ip ? `from ${ip}` : '');
    },
  },
  'auth.key_created': {
    icon: '⚷',
    label: 'Key created',
    describe: (d) => {
      const prefix = d.text('prefix', 12);
      const role = d.text('role', 12);
      return join('API key', quote(d.text('label', 40)), prefix ? `${prefix}…` : '', role ? `role ${role}` : '', 'created', by(d.text('by', 30)));
    },
  },
  'auth.key_revoked': {
    icon: '✂',
    label: 'Key revoked',
    describe: (d) => {
      const prefix = d.text('prefix', 12);
      return colon(join('API key', quote(d.text('label', 40)), prefix ? `${prefix}…` : d.shortId('apiKeyId'), 'revoked', by(d.text('by', 30))), d.text('reason', 40));
    },
  },
  'router.provider_state_changed': {
    icon: '⇄',
    label: 'Provider',
    describe: (d) => {
      const from = d.value('from', 20);
      const to = d.value('to', 20);
      const change = from || to ? `${from || '?'} → ${to || '?'}` : 'changed';
      return colon(join('provider', d.text('provider', 40) || '?', d.text('field', 20), change), d.text('reason', 50));
    },
  },
  'router.failover': {
    icon: '⇆',
    label: 'Failover',
    describe: (d) => colon(join('failover', d.text('from', 30) || '?', '→', d.text('to', 30) || 'none'), d.text('reason', 50)),
  },
  'router.budget_exhausted': {
    icon: '⛁',
    label: 'Budget spent',
    describe: (d) => {
      const spent = d.num('spentUsd');
      const budget = d.num('budgetUsd');
      const money = spent !== null && budget !== null ? `(${usd(spent)} of ${usd(budget)})` : budget !== null ? `(${usd(budget)} a day)` : '';
      return join('cloud budget exhausted', d.text('day', 10) ? `on ${d.text('day', 10)}` : '', money, d.text('reason', 50));
    },
  },
  'router.metrics_flushed': {
    icon: '☰',
    label: 'Metrics',
    describe: (d) => {
      const n = d.count('providers');
      return join('router metrics flushed', n === null ? '' : `(${n} providers)`);
    },
  },
  // memory (channel `memory`): the event carries a preview of the content, the entry itself is fetched by id
  'memory.stored': {
    icon: '◈',
    label: 'Remembered',
    describe: (d) => colon(join(d.text('source', 30) || 'someone', 'stored a', d.text('type', 20), 'memory'), quote(d.text('preview', 60))),
  },
  'memory.fact_superseded': {
    icon: '↻',
    label: 'Fact updated',
    describe: (d) => join('fact', [d.text('subject', 30), d.text('factKey', 30)].filter(Boolean).join('/'), 'superseded'),
  },
  'memory.deleted': { icon: '✕', label: 'Memory deleted', describe: (d) => join(d.text('type', 20), 'memory', d.shortId('entryId'), 'deleted') },
  'memory.reindex_started': {
    icon: '⟳',
    label: 'Re-embedding',
    describe: (d) => {
      const total = d.num('total');
      const model = d.text('model', 40);
      return join('re-embedding', total === null ? '' : String(total), 'memories', model ? `with ${model}` : '');
    },
  },
  'memory.reindex_progress': {
    icon: '⟳',
    label: 'Re-embedding',
    describe: (d) => {
      const model = d.text('model', 40);
      return join('re-embedded', `${d.num('done') ?? '?'}/${d.num('total') ?? '?'}`, model ? `with ${model}` : '');
    },
  },
  'memory.reindex_completed': {
    icon: '✓',
    label: 'Re-embedded',
    describe: (d) => {
      const model = d.text('model', 40);
      const ms = d.num('durationMs');
      return join('re-embedding done:', `${d.num('embedded') ?? '?'} memories`, model ? `with ${model}` : '', ms === null ? '' : `in ${ms} ms`);
    },
  },
  // ledger (channel `ledger`, operators only): amounts arrive in msat and are shown in sats; the payloads carry
  // no preimage and no macaroon, and the formatter reads only declared fields
  'invoice.created': {
    icon: '⚡',
    label: 'Invoice',
    describe: (d) => join('invoice for', msatAsSats(d.num('amountMsat')) || '?', quote(d.text('memo', 40)), d.text('accountId', 40) ? `to ${d.text('accountId', 40)}` : ''),
  },
  'invoice.settled': {
    icon: '⚡',
    label: 'Received',
    describe: (d) => join('received', msatAsSats(d.num('amountMsat')) || '?', d.text('accountId', 40) ? `into ${d.text('accountId', 40)}` : ''),
  },
  'invoice.expired': {
    icon: '⌛',
    label: 'Invoice expired',
    describe: (d) => join('invoice for', msatAsSats(d.num('amountMsat')) || '?', 'expired unpaid'),
  },
  'payment.in_flight': {
    icon: '➚',
    label: 'Paying',
    describe: (d) => {
      const maxFee = msatAsSats(d.num('maxFeeMsat'));
      return join('paying', msatAsSats(d.num('amountMsat')) || '?', d.text('accountId', 40) ? `from ${d.text('accountId', 40)}` : '', paren(maxFee ? `max fee ${maxFee}` : ''));
    },
  },
  'payment.sent': {
    icon: '➚',
    label: 'Paid',
    describe: (d) => join('paid', msatAsSats(d.num('amountMsat')) || '?', paren(join('fee', msatAsSats(d.num('feeMsat')) || '0 sats')), d.flag('internal') ? '· internal' : ''),
  },
  'payment.failed': {
    icon: '✗',
    label: 'Payment failed',
    describe: (d) => colon(join('payment of', msatAsSats(d.num('amountMsat')) || '?', 'failed'), d.text('reason', 50)),
  },
  // task payouts: the envelope carries the task and the agent, the payload the accounts
  'hold.created': {
    icon: '⧗',
    label: 'Payout held',
    describe: (d, n) => join(msatAsSats(d.num('amountMsat')) || '?', 'held for', n.self() || d.text('creditAccountId', 40) || '?', paren(d.text('purpose', 20))),
  },
  'hold.posted': {
    icon: '✓',
    label: 'Payout',
    describe: (d, n) => join('paid', msatAsSats(d.num('amountMsat')) || '?', 'to', n.self() || d.text('creditAccountId', 40) || '?', paren(d.text('purpose', 20))),
  },
  'hold.voided': {
    icon: '↺',
    label: 'Payout voided',
    describe: (d, n) => colon(join(msatAsSats(d.num('amountMsat')) || '?', 'held for', n.self() || d.text('creditAccountId', 40) || '?', 'released'), d.text('reason', 50)),
  },
  'ledger.reconciliation_drift': {
    icon: '⚠',
    label: 'Ledger drift',
    describe: (d) => {
      const n = d.num('differences');
      return colon(join('ledger differs from the node', n === null ? '' : `(${n} difference${n === 1 ? '' : 's'})`), d.text('summary', 60));
    },
  },
  // upgrades (channel `upgrades`): every payload but test_output carries the proposal's title
  'upgrade.proposed': {
    icon: '⇪',
    label: 'Upgrade proposed',
    describe: (d) => {
      const added = d.num('linesAdded');
      const removed = d.num('linesRemoved');
      const lines = added === null && removed === null ? '' : `+${added ?? 0} −${removed ?? 0}`;
      return join(d.text('by', 40) || 'someone', 'proposed', upgrade(d.text('title', 50)), paren(lines), d.flag('requiresAdmin') ? '· needs admin' : '');
    },
  },
  'upgrade.approval_added': {
    icon: '☐',
    label: 'Needs approval',
    describe: (d) => {
      const required = d.num('requiredApprovals');
      return join(upgrade(d.text('title', 50)), 'waits for', required !== null && required > 1 ? `${required} approvals` : 'approval', d.flag('requiresAdmin') ? '(admin)' : '');
    },
  },
  'upgrade.approval_resolved': {
    icon: '☑',
    label: 'Approval resolved',
    describe: (d) => join(upgrade(d.text('title', 50)), d.text('outcome', 20) || 'resolved', by(d.text('by', 40))),
  },
  'upgrade.approval_recorded': {
    icon: '✓',
    label: 'Approval',
    describe: (d) => {
      const approvals = d.num('approvals');
      const count = approvals === null ? '' : `(${approvals}/${d.num('requiredApprovals') ?? '?'})`;
      return colon(join(d.text('by', 40) || 'someone', 'approved', upgrade(d.text('title', 50)), count), d.text('comment', 60));
    },
  },
  'upgrade.approved': { icon: '✔', label: 'Upgrade approved', describe: (d) => join(upgrade(d.text('title', 50)), 'approved', by(d.text('by', 40))) },
  'upgrade.rejected': {
    icon: '✖',
    label: 'Upgrade rejected',
    describe: (d) => colon(join(upgrade(d.text('title', 50)), 'rejected', by(d.text('by', 40))), d.text('comment', 60)),
  },
  'upgrade.expired': { icon: '⌛', label: 'Upgrade expired', describe: (d) => join(upgrade(d.text('title', 50)), 'expired undecided') },
  'upgrade.cancelled': {
    icon: '⊘',
    label: 'Upgrade cancelled',
    describe: (d) => colon(join(upgrade(d.text('title', 50)), 'cancelled', by(d.text('by', 40))), d.text('comment', 60)),
  },
  'upgrade.approval_dismissed': {
    icon: '↺',
    label: 'Approval dismissed',
    describe: (d) => {
      const n = d.num('dismissed');
      return join(upgrade(d.text('title', 50)), 'changed:', n === null ? 'approvals' : `${n} approval${n === 1 ? '' : 's'}`, 'dismissed, back to review');
    },
  },
  'upgrade.queued': {
    icon: '☰',
    label: 'Upgrade queued',
    describe: (d) => {
      const position = d.num('position');
      return join(upgrade(d.text('title', 50)), 'queued', position === null ? '' : `#${position}`, by(d.text('by', 40)));
    },
  },
  'upgrade.testing': {
    icon: '⚙',
    label: 'Upgrade testing',
    describe: (d) => {
      const attempt = d.num('attempt');
      return colon(join('testing', upgrade(d.text('title', 50)), attempt === null ? '' : `attempt ${attempt}`), d.text('reason', 50));
    },
  },
  'upgrade.test_output': {
    icon: '›',
    label: 'Test output',
    describe: (d) => colon(join('test output', d.shortId('upgradeId'), d.flag('truncated') ? '(truncated)' : ''), d.text('chunk', 70)),
  },
  'upgrade.applied': {
    icon: '⇧',
    label: 'Upgrade applied',
    describe: (d) => {
      const head = d.text('newHead', 64).slice(0, 12);
      return join(upgrade(d.text('title', 50)), 'applied', head ? `at ${head}` : '');
    },
  },
  'upgrade.failed': {
    icon: '✗',
    label: 'Upgrade failed',
    describe: (d) => colon(join(upgrade(d.text('title', 50)), 'failed', paren(d.text('reason', 20))), d.list('conflicts') || d.text('message', 60)),
  },
  'upgrade.rolled_back': {
    icon: '↶',
    label: 'Rolled back',
    describe: (d) => {
      const to = d.text('to', 64).slice(0, 12);
      return join(upgrade(d.text('title', 50)), 'rolled back', to ? `to ${to}` : '', '(health check failed)');
    },
  },
  'upgrade.retried': { icon: '↻', label: 'Upgrade retried', describe: (d) => join(upgrade(d.text('title', 50)), 'retried', by(d.text('by', 40))) },
};

/** Formats a type this build does not know (a newer server): its `message` when it carries one. */
function describeUnknown(data: unknown): string {
  const v = data && typeof data === 'object' ? (data as Record<string, unknown>).message : undefined;
  return typeof v === 'string' ? clip(v, 60) : '';
}

/** The icon, label, one-line text and HH:MM:SS time of an event. Never throws on odd data. */
export function formatEvent(e: EventEnvelope, ctx: FormatContext = {}): FormattedEvent {
  // The one place the correlation "format of e.type reads data of e.type" is asserted: EVENT_SPECS is typed per key.
  const spec = (EVENT_SPECS as Partial<Record<string, EventFormat<EventType>>>)[e.type];
  let text = '';
  try {
    text = spec ? spec.describe(new Fields(e.data), new Names(e, ctx)) : describeUnknown(e.data);
  } catch {
    text = '';
  }
  return {
    icon: spec?.icon ?? '•',
    label: spec?.label ?? String(e.type),
    text: text.replace(/\s+/g, ' ').trim(),
    time: formatClock(e.createdAt),
  };
}
