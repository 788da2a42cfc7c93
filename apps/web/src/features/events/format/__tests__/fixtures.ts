import type { EventDataMap, EventEnvelope, EventEnvelopeOf, EventType } from '@app/contracts';

/** ISO time used by the fixtures. */
export const AT = '2026-11-21T10:11:12.345Z';

/**
 * One payload per event type, typed by the catalogue (`EventDataMap[K]`, every declared field filled in): a field
 * renamed, added or removed in `libs/contracts/src/events.ts` breaks `tsc` here, and the formatter tests then check
 * the formatter reads exactly these names.
 */
export const FIXTURES: { [K in EventType]: EventDataMap[K] } = {
  'task.created': { description: 'write a parser for the ledger export format', createdBy: 'user:alice' },
  'task.bidding': { closesAt: AT, windowMs: 30_000 },
  'task.assigned': { bidSats: 35, direct: false },
  'task.started': {},
  'task.progress': { message: 'parsing headers', fraction: 0.5 },
  'task.completed': { result: 'done: 12 tests pass', bidSats: 35, by: 'agent:persona-forge' },
  'task.failed': { reason: 'no bids received', from: 'bidding', by: 'coordinator', recovered: true },
  'task.cancelled': { reason: 'not needed', by: 'user:alice' },
  'agent.joined': { name: 'forge', kind: 'persona', capabilities: ['code', 'tests'], personaId: 'forge', reason: 'spawned' },
  'agent.left': { name: 'forge', reason: 'stopped', tasksFailed: 1 },
  'agent.status_changed': { from: 'idle', to: 'busy', reason: 'won an auction' },
  'agent.lifecycle': { state: 'spawning', since: AT, by: 'user:alice' },
  'bid.submitted': { bidSats: 35, bidId: 'bid-1' },
  'bid.rejected': { reason: 'auction closed', bidSats: 40, code: 'swarm/auction_closed' },
  'auction.closed': { winnerAgentId: 'persona-forge', winningBidSats: 35, bidCount: 3, closesAt: AT },
  'message.sent': {
    messageId: 'msg-12345678-abc',
    fromAgentId: 'persona-forge',
    toAgentId: 'agent-scout',
    bodyPreview: 'can you review?',
    by: 'agent:persona-forge',
  },
  'message.delivered': { messageId: 'msg-12345678-abc', fromAgentId: 'persona-forge', toAgentId: 'agent-scout' },
  'question.asked': { questionId: 'q-1234567890', question: 'Deploy now?', options: ['yes', 'no'], multiple: false, deadline: null },
  'question.answered': { questionId: 'q-1234567890', answer: ['yes'], answeredBy: 'user:alice' },
  'question.cancelled': { questionId: 'q-1234567890', by: 'user:alice' },
  'question.expired': { questionId: 'q-1234567890', deadline: AT },
  'tool.called': { name: 'llm.complete', input: 'write a parser', durationMs: 0, error: '' },
  'tool.completed': {
    name: 'llm.complete',
    input: 'write a parser',
    durationMs: 812,
    error: '',
    provider: 'ollama',
    model: 'llama3.1:8b',
    latencyMs: 800,
    attempts: [{ provider: 'ollama', outcome: 'ok', reason: null, latencyMs: 800 }],
    tokensIn: 10,
    tokensOut: 20,
  },
  'tool.failed': {
    name: 'llm.complete',
    input: 'write a parser',
    durationMs: 30,
    error: 'all providers failed',
    provider: 'ollama',
    model: 'llama3.1:8b',
    latencyMs: 30,
    attempts: [],
    tokensIn: 0,
    tokensOut: 0,
  },
  'system.info': { message: 'swarm recovered after start' },
  'system.warning': { message: 'slow realtime consumer told to resync' },
  'system.error': { message: 'unhandled error', error: 'database is locked' },
  'auth.login_failed': { username: 'mallory', ip: '10.0.0.9', reason: 'bad_credentials' },
  'auth.key_created': { apiKeyId: 'key-12345678', label: 'ci', role: 'operator', prefix: 'mc_ab12c', by: 'user:alice' },
  'auth.key_revoked': { apiKeyId: 'key-12345678', label: 'ci', prefix: 'mc_ab12c', by: 'user:alice', reason: 'agent removed' },
  'router.provider_state_changed': { provider: 'ollama', field: 'enabled', from: true, to: false, reason: 'operator' },
  'router.failover': { from: 'ollama', to: null, reason: 'timeout', requestId: 'req-1' },
  'router.budget_exhausted': { spentUsd: 5.01, budgetUsd: 5, day: '2026-11-21', reason: 'daily budget reached' },
  'router.metrics_flushed': {
    providers: [
      { provider: 'ollama', requests: 10, failures: 1, p50: 120, p95: 900, circuitState: 'closed' },
      { provider: 'openai', requests: 2, failures: 0, p50: null, p95: null, circuitState: 'closed' },
    ],
  },
};

/** Envelope defaults of the fixtures: task `task-1`, agent `persona-forge`. */
export const ENVELOPE_DEFAULTS = { taskId: 'task-1', agentId: 'persona-forge' } as const;

/** A typed envelope of type T around `data` (the payload type-checks against the catalogue). */
export function typedEnvelope<T extends EventType>(
  type: T,
  data: EventDataMap[T],
  extra: Partial<Pick<EventEnvelopeOf<T>, 'seq' | 'taskId' | 'agentId' | 'source' | 'createdAt'>> = {},
): EventEnvelope {
  const e: EventEnvelopeOf<T> = {
    seq: 1,
    id: '00000000-0000-4000-8000-000000000001',
    type,
    source: 'coordinator',
    channel: 'swarm',
    taskId: ENVELOPE_DEFAULTS.taskId,
    agentId: ENVELOPE_DEFAULTS.agentId,
    data,
    createdAt: AT,
    ...extra,
  };
  // EventEnvelopeOf<T> for a generic T is one member of the EventEnvelope union; TS cannot see that by itself.
  return e as unknown as EventEnvelope;
}
