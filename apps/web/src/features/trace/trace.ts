import { TERMINAL_TASK_STATUSES, type EventEnvelope, type EventEnvelopeOf, type TaskDetailDto, type ToolLlmAttempt } from '@app/contracts';

/**
 * A task's trace, derived from its `task:<id>` events (oldest first) and its detail (with bids). Pure: the page and
 * the JSON export both use it. Times are epoch ms unless named `*At` (ISO), durations ms.
 */
export interface TaskTrace {
  taskId: string;
  /** Every event of the task in seq order. */
  timeline: EventEnvelope[];
  auction: {
    bids: { agentId: string; bidSats: number; at: string; won: boolean }[];
    /** Bids refused (late, over the limit, ...) with the reason the server gave. */
    rejected: { agentId: string | null; bidSats: number | null; reason: string; at: string }[];
    closedAt: string | null;
    /** True when the task was assigned directly (posted with agentId): no auction ran. */
    direct: boolean;
    winnerAgentId: string | null;
    winningBidSats: number | null;
  };
  llmCalls: LlmCall[];
  /** Tool calls as spans on the task's clock (offsets from the task's creation). */
  tools: ToolSpan[];
  result: string | null;
  failureReason: string | null;
  /** Elapsed ms from creation to the end (terminal) or to `nowMs` (running). */
  elapsedMs: number;
  /** What the task is doing now (last meaningful event), null when it is over. */
  currentStep: string | null;
}

export interface LlmCall {
  provider: string | null;
  model: string | null;
  /** Every try, failovers included (`outcome` success/error/skipped, `reason`). */
  attempts: { provider: string; outcome: string; reason: string | null; latencyMs: number }[];
  /** The messages sent (system prompt + task), when the executor reported them. */
  prompt: { role: string; content: string }[] | null;
  /** Full response text (the call's output, or the task result for the last successful call). */
  response: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
  latencyMs: number | null;
  costUsd: number | null;
  ok: boolean;
  error: string | null;
  at: string;
}

export interface ToolSpan {
  name: string;
  startOffsetMs: number;
  /** null while running. */
  durationMs: number | null;
  status: 'running' | 'ok' | 'error';
  error: string | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The envelope with its payload typed by `EventDataMap` (narrow on `type`); a payload that is not an object (an older
 * server, a broken producer: the wire is not trusted) reads as one without fields. Field values are still checked
 * where they are shown (`num`, `str`).
 */
function typed(e: EventEnvelope): EventEnvelope {
  return isRecord(e.data) ? e : ({ ...e, data: {} } as unknown as EventEnvelope);
}

function attemptsOf(v: readonly ToolLlmAttempt[] | undefined): LlmCall['attempts'] {
  if (!Array.isArray(v)) return [];
  return v.filter(isRecord).map((a) => ({
    provider: str(a.provider) ?? '?',
    outcome: str(a.outcome) ?? '?',
    reason: str(a.reason),
    latencyMs: num(a.latencyMs) ?? 0,
  }));
}

function promptOf(v: readonly { role: string; content: string }[] | undefined): LlmCall['prompt'] {
  if (!Array.isArray(v)) return null;
  return v.filter(isRecord).map((m) => ({ role: str(m.role) ?? '?', content: str(m.content) ?? '' }));
}

/** Short label of one event for the timeline and the "current step". */
export function stepLabel(received: EventEnvelope): string {
  const e = typed(received);
  switch (e.type) {
    case 'task.created':
      return 'posted';
    case 'task.bidding':
      return 'auction open';
    case 'bid.submitted':
      return `bid ${String(e.data.bidSats)} sats by ${e.agentId ?? '?'}`;
    case 'bid.rejected':
      return `bid refused (${String(e.data.reason ?? e.data.code ?? '')}) from ${e.agentId ?? '?'}`;
    case 'auction.closed': {
      const { winnerAgentId, winningBidSats, assignedBy } = e.data;
      if (!winnerAgentId) return 'auction closed without bids';
      if (assignedBy) return `auction closed: ${String(assignedBy)} assigned ${String(winnerAgentId)}${winningBidSats === null || winningBidSats === undefined ? '' : ` at ${String(winningBidSats)} sats`}`;
      return `auction closed: ${String(winnerAgentId)} won at ${String(winningBidSats)} sats`;
    }
    case 'task.assigned':
      return `assigned to ${e.agentId ?? '?'}${e.data.reassignedFrom ? ` (was ${String(e.data.reassignedFrom)})` : ''}`;
    case 'task.started':
      return 'started';
    case 'task.progress':
      return `progress: ${String(e.data.message ?? '')}`;
    case 'tool.called':
      return `calling ${String(e.data.name ?? 'tool')}`;
    case 'tool.completed':
      return `${String(e.data.name ?? 'tool')} done`;
    case 'tool.failed':
      return `${String(e.data.name ?? 'tool')} failed`;
    case 'task.completed':
      return 'completed';
    case 'task.failed':
      return `failed: ${String(e.data.reason ?? '')}`;
    case 'task.cancelled':
      return 'cancelled';
    default:
      return e.type;
  }
}

/**
 * Builds the trace. `events` may arrive in any order and with duplicates (snapshot + live frames): they are
 * de-duplicated by seq and sorted. `nowMs` is the clock for a running task's elapsed time.
 */
export function buildTrace(task: TaskDetailDto, events: readonly EventEnvelope[], nowMs: number): TaskTrace {
  const timeline = [...new Map(events.filter((e) => e.taskId === task.id).map((e) => [e.seq, e])).values()].sort((a, b) => a.seq - b.seq);
  const t0 = Date.parse(task.createdAt);
  const rejected: TaskTrace['auction']['rejected'] = [];
  let closed: EventEnvelopeOf<'auction.closed'> | null = null;
  const llmCalls: LlmCall[] = [];
  const tools: ToolSpan[] = [];
  const open = new Map<string, { span: ToolSpan; prompt: LlmCall['prompt'] }[]>();
  for (const received of timeline) {
    const e = typed(received);
    if (e.type === 'bid.rejected') rejected.push({ agentId: e.agentId, bidSats: num(e.data.bidSats), reason: str(e.data.reason) ?? str(e.data.code) ?? 'rejected', at: e.createdAt });
    if (e.type === 'auction.closed') closed = e;
    if (e.type === 'tool.called') {
      const d = e.data;
      const name = str(d.name) ?? 'tool';
      const span: ToolSpan = { name, startOffsetMs: Date.parse(e.createdAt) - t0, durationMs: null, status: 'running', error: null };
      tools.push(span);
      open.set(name, [...(open.get(name) ?? []), { span, prompt: promptOf(d.prompt ?? (d.messages as typeof d.prompt)) }]);
    }
    if (e.type === 'tool.completed' || e.type === 'tool.failed') {
      const d = e.data;
      const name = str(d.name) ?? 'tool';
      const stack = open.get(name) ?? [];
      const started = stack.shift();
      const endOffset = Date.parse(e.createdAt) - t0;
      const duration = num(d.durationMs) ?? (started ? endOffset - started.span.startOffsetMs : null);
      const ok = e.type === 'tool.completed';
      const error = ok ? null : (str(d.reason) ?? str(d.error) ?? 'failed');
      if (started) Object.assign(started.span, { durationMs: duration, status: ok ? 'ok' : 'error', error });
      else tools.push({ name, startOffsetMs: endOffset - (duration ?? 0), durationMs: duration, status: ok ? 'ok' : 'error', error });
      if (name.startsWith('llm.')) {
        llmCalls.push({
          provider: str(d.provider),
          model: str(d.model),
          attempts: attemptsOf(d.attempts),
          prompt: started?.prompt ?? null,
          response: str(d.output) ?? str(d.response),
          tokensIn: num(d.tokensIn),
          tokensOut: num(d.tokensOut),
          latencyMs: num(d.latencyMs) ?? duration,
          costUsd: num(d.costUsd),
          ok,
          error,
          at: e.createdAt,
        });
      }
    }
  }
  // the executor's answer is the task result: show it as the last successful call's response when not reported
  const lastOk = [...llmCalls].reverse().find((c) => c.ok);
  if (lastOk && lastOk.response === null && task.status === 'completed') lastOk.response = task.result;
  const terminal = TERMINAL_TASK_STATUSES.includes(task.status);
  const endAt = terminal ? Date.parse(task.completedAt ?? task.updatedAt) : nowMs;
  const last = [...timeline].reverse().find((e) => e.type !== 'bid.submitted' || task.status === 'bidding');
  const cd: Partial<EventEnvelopeOf<'auction.closed'>['data']> = closed?.data ?? {};
  return {
    taskId: task.id,
    timeline,
    auction: {
      bids: task.bids.map((b) => ({ agentId: b.agentId, bidSats: b.bidSats, at: b.createdAt, won: b.won })).sort((a, b) => a.at.localeCompare(b.at)),
      rejected,
      closedAt: closed?.createdAt ?? null,
      direct: task.auctionClosesAt === null && task.bids.length === 0 && closed === null,
      winnerAgentId: str(cd.winnerAgentId) ?? task.assignedAgentId,
      winningBidSats: num(cd.winningBidSats) ?? task.winningBidSats,
    },
    llmCalls,
    tools,
    result: task.result,
    failureReason: task.failureReason,
    elapsedMs: Math.max(0, endAt - t0),
    currentStep: terminal ? null : last ? stepLabel(last) : task.status,
  };
}

/**
 * The JSON export of a task's trace (`trace-<taskId>.json`): the task, its bids, every event, and the derived
 * auction / LLM calls / tool spans. Event data is exported as stored (it never contains secrets).
 */
export function traceExport(task: TaskDetailDto, trace: TaskTrace): string {
  return JSON.stringify(
    {
      format: 'mission-control.task-trace/v1',
      exportedAt: new Date().toISOString(),
      task,
      auction: trace.auction,
      llmCalls: trace.llmCalls,
      tools: trace.tools,
      elapsedMs: trace.elapsedMs,
      events: trace.timeline,
    },
    null,
    2,
  );
}

/** Agent statistics from its bid events and the closed auctions (only closed auctions are outcomes). */
export function agentStats(agentId: string, bidEvents: readonly EventEnvelope[], closedAuctions: readonly EventEnvelope[]) {
  const bids = bidEvents
    .map(typed)
    .filter((e): e is EventEnvelopeOf<'bid.submitted'> => e.type === 'bid.submitted' && e.agentId === agentId && !!e.taskId)
    .map((e) => ({ taskId: e.taskId!, bidSats: num(e.data.bidSats), at: e.createdAt, seq: e.seq }))
    .sort((a, b) => b.seq - a.seq);
  const winnerOf = new Map(
    closedAuctions
      .map(typed)
      .filter((e): e is EventEnvelopeOf<'auction.closed'> => e.type === 'auction.closed' && !!e.taskId)
      .map((e) => [e.taskId!, str(e.data.winnerAgentId)]),
  );
  const decided = bids.filter((b) => winnerOf.has(b.taskId));
  const won = decided.filter((b) => winnerOf.get(b.taskId) === agentId);
  return {
    bids: bids.map((b) => ({ ...b, outcome: winnerOf.has(b.taskId) ? (winnerOf.get(b.taskId) === agentId ? 'won' : 'lost') : 'open' })),
    auctionsDecided: decided.length,
    auctionsWon: won.length,
    /** won / decided, null before any decided auction. */
    winRate: decided.length === 0 ? null : won.length / decided.length,
  };
}
