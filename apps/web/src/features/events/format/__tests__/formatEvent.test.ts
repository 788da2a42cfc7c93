import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, LEDGER_EVENT_TYPES, type EventEnvelope, type EventType } from '@app/contracts';
import { formatClock } from '../../../../lib/time';
import { EVENT_SPECS, clip, formatEvent, msatAsSats, type FormatContext } from '../formatEvent';
import { AT, FIXTURES, typedEnvelope } from './fixtures';

/** An envelope with arbitrary (untrusted) data, as an old server or a misbehaving agent may send. */
function envelope(type: EventType, data: Record<string, unknown> = {}, extra: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    seq: 1,
    id: '00000000-0000-4000-8000-000000000001',
    type,
    source: 'coordinator',
    channel: 'swarm',
    taskId: 'task-1234567890',
    agentId: 'persona-forge',
    data,
    createdAt: '2026-11-21T10:11:12.345Z',
    ...extra,
  } as unknown as EventEnvelope;
}

/** Payloads that must not break the formatter: wrong types, nesting, nulls, huge strings. */
const HOSTILE: Record<string, unknown>[] = [
  {},
  { description: 42, bidSats: 'lots', message: { nested: true }, reason: null, answer: 'yes', capabilities: 'x', providers: 3 },
  { description: ['a', 'b'], question: null, name: {}, from: true, to: false, fraction: 7, durationMs: Infinity, state: 5 },
  { description: 'x'.repeat(10_000), message: 'line1\nline2\r\n\tline3', result: '', options: [{ a: 1 }, null, 'ok'] },
];

const W = "'write a parser for the ledger export format'";
const CTX: FormatContext = {
  taskDescription: (id) => (id === 'task-1' ? 'write a parser for the ledger export format' : undefined),
  agentName: (id) => ({ 'persona-forge': 'forge', 'agent-scout': 'scout' })[id],
};

/** The exact line of each typed fixture (task `task-1`, agent `persona-forge`, with CTX's names). */
const EXPECTED: Record<EventType, string> = {
  'task.created': `new task ${W}`,
  'task.bidding': `bidding open on ${W} until ${formatClock(AT)}`,
  'task.assigned': `${W} → forge (35 sats)`,
  'task.started': `forge started ${W}`,
  'task.progress': `forge on ${W}: parsing headers (50%)`,
  'task.completed': `forge completed ${W} (35 sats): done: 12 tests pass`,
  'task.failed': `${W} failed (restart recovery): no bids received`,
  'task.cancelled': `${W} cancelled by user:alice: not needed`,
  'agent.joined': 'forge joined (persona forge) · code, tests',
  'agent.left': 'forge left (stopped) · 1 task(s) failed',
  'agent.status_changed': 'forge is now busy (was idle)',
  'agent.lifecycle': 'forge spawning…',
  'bid.submitted': `forge bid 35 sats on ${W}`,
  'bid.rejected': `forge bid 40 sats rejected on ${W}: auction closed (swarm/auction_closed)`,
  'auction.closed': `auction on ${W} closed: forge won at 35 sats (3 bids)`,
  'message.sent': 'forge → scout: can you review?',
  'message.delivered': 'message msg-1234 delivered to scout',
  'question.asked': 'forge asks: Deploy now? (yes, no)',
  'question.answered': 'question q-123456 answered by user:alice: yes',
  'question.cancelled': 'question q-123456 cancelled by user:alice',
  'question.expired': 'question q-123456 expired unanswered',
  'tool.called': 'forge called llm.complete: write a parser',
  'tool.completed': 'llm.complete completed for forge in 812 ms (ollama llama3.1:8b)',
  'tool.failed': 'llm.complete failed for forge: all providers failed',
  'system.info': 'swarm recovered after start',
  'system.warning': 'slow realtime consumer told to resync',
  'system.error': 'unhandled error: database is locked',
  'auth.login_failed': "login failed for 'mallory' (bad_credentials) from 10.0.0.9",
  'auth.key_created': "API key 'ci' mc_ab12c… role operator created by user:alice",
  'auth.key_revoked': "API key 'ci' mc_ab12c… revoked by user:alice: agent removed",
  'router.provider_state_changed': 'provider ollama enabled true → false: operator',
  'router.failover': 'failover ollama → none: timeout',
  'router.budget_exhausted': 'cloud budget exhausted on 2026-11-21 ($5.01 of $5.00) daily budget reached',
  'router.metrics_flushed': 'router metrics flushed (2 providers)',
  'memory.stored': "agent:persona-forge stored a fact memory: 'the ledger export uses CSV with a header row'",
  'memory.fact_superseded': 'fact ledger-export/format superseded',
  'memory.deleted': 'conversation memory mem-1234 deleted',
  'memory.reindex_started': 're-embedding 120 memories with nomic-embed-text',
  'memory.reindex_progress': 're-embedded 64/120 with nomic-embed-text',
  'memory.reindex_completed': 're-embedding done: 120 memories with nomic-embed-text in 4200 ms',
  'invoice.created': "invoice for 21000 sats 'top up' to treasury",
  'invoice.settled': 'received 21000 sats into treasury',
  'invoice.expired': 'invoice for 1.500 sats expired unpaid',
  'payment.in_flight': 'paying 35 sats from treasury (max fee 1.050 sats)',
  'payment.sent': 'paid 35 sats (fee 1.001 sats)',
  'payment.failed': 'payment of 35 sats failed: no route',
  'hold.created': '35 sats held for forge (task_payout)',
  'hold.posted': 'paid 35 sats to forge (task_payout)',
  'hold.voided': '35 sats held for forge released: task failed',
  'ledger.reconciliation_drift': 'ledger differs from the node (2 differences): node 1000 sats more than the ledger',
  'upgrade.proposed': "agent:persona-forge proposed upgrade 'faster parser' (+12 −4) · needs admin",
  'upgrade.approval_added': "upgrade 'faster parser' waits for 2 approvals (admin)",
  'upgrade.approval_resolved': "upgrade 'faster parser' approved by user:alice",
  'upgrade.approval_recorded': "user:alice approved upgrade 'faster parser' (1/2): looks good",
  'upgrade.approved': "upgrade 'faster parser' approved by user:bob",
  'upgrade.rejected': "upgrade 'faster parser' rejected by user:alice: needs tests",
  'upgrade.expired': "upgrade 'faster parser' expired undecided",
  'upgrade.cancelled': "upgrade 'faster parser' cancelled by agent:persona-forge: superseded",
  'upgrade.approval_dismissed': "upgrade 'faster parser' changed: 1 approval dismissed, back to review",
  'upgrade.queued': "upgrade 'faster parser' queued #2 by user:bob",
  'upgrade.testing': "testing upgrade 'faster parser' attempt 1: first run",
  'upgrade.test_output': 'test output up-12345: PASS parser.spec.ts',
  'upgrade.applied': "upgrade 'faster parser' applied at 5678abcd5678",
  'upgrade.failed': "upgrade 'faster parser' failed (tests_failed): 2 tests failed",
  'upgrade.rolled_back': "upgrade 'faster parser' rolled back to 444444444444 (health check failed)",
  'upgrade.retried': "upgrade 'faster parser' retried by user:alice",
};

/** The typed fixture of `type` wrapped in a Proxy that records every key the formatter reads. */
function recorded(type: EventType): { e: EventEnvelope; read: Set<string> } {
  const read = new Set<string>();
  const data = new Proxy(FIXTURES[type] as object, {
    get(target, key, receiver) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
  return { e: { ...typedEnvelope(type, FIXTURES[type]), data } as EventEnvelope, read };
}

describe('formatEvent', () => {
  it('has a spec for exactly the types in EVENT_TYPES', () => {
    expect(Object.keys(EVENT_SPECS).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it.each(EVENT_TYPES.map((t) => [t]))('%s: icon, label and a one-line text for any payload', (type) => {
    for (const data of HOSTILE) {
      const f = formatEvent(envelope(type, data));
      expect(f.icon).not.toBe('•');
      expect(f.label.length).toBeGreaterThan(0);
      expect(f.label).not.toBe(type);
      expect(typeof f.text).toBe('string');
      expect(f.text.length).toBeGreaterThan(0);
      expect(f.text.length).toBeLessThan(400);
      expect(f.text).not.toMatch(/[\n\r\t]/);
      expect(f.text).not.toContain('[object Object]');
      expect(f.text).not.toContain('undefined');
      expect(f.text).not.toContain('Infinity');
      expect(f.text).not.toContain('null');
      expect(f.time).toMatch(/^\d\d:\d\d:\d\d$/);
    }
  });

  describe('typed fixtures (a field renamed in the catalogue or in the formatter fails here)', () => {
    it.each(EVENT_TYPES.map((t) => [t]))('%s reads its catalogue fields', (type) => {
      expect(formatEvent(typedEnvelope(type, FIXTURES[type]), CTX).text).toBe(EXPECTED[type]);
    });

    it.each(EVENT_TYPES.map((t) => [t]))('%s reads no field its payload does not declare', (type) => {
      const { e, read } = recorded(type);
      formatEvent(e, CTX);
      const declared = new Set(Object.keys(FIXTURES[type]));
      expect([...read].filter((k) => !declared.has(k))).toEqual([]);
      // a payload with fields shows at least one of them (the line is not built from the envelope alone)
      if (declared.size > 0) expect(read.size).toBeGreaterThan(0);
    });
  });

  it('reads like a sentence in the other shapes of a payload', () => {
    // agent.lifecycle cleared
    expect(formatEvent(typedEnvelope('agent.lifecycle', { state: null, since: null, previous: 'restarting' }), CTX).text).toBe(
      'forge ready (restarting done)',
    );
    // direct assignment: no bid
    expect(formatEvent(typedEnvelope('task.assigned', { bidSats: null, direct: true }), CTX).text).toBe(`${W} → forge (direct)`);
    // auction without a winner
    expect(
      formatEvent(typedEnvelope('auction.closed', { winnerAgentId: null, winningBidSats: null, bidCount: 0, closesAt: AT }), CTX).text,
    ).toBe(`auction on ${W} closed: no winner (0 bids)`);
    // operator message: fromAgentId null, the actor label stands in
    expect(
      formatEvent(
        typedEnvelope(
          'message.sent',
          { messageId: 'm1', fromAgentId: null, toAgentId: 'agent-scout', bodyPreview: 'hi', by: 'user:alice' },
          { agentId: 'agent-scout' },
        ),
        CTX,
      ).text,
    ).toBe('user:alice → scout: hi');
    // a task the context does not know: short id; an agent it does not know: the id
    expect(formatEvent(typedEnvelope('task.failed', { reason: 'no bids', from: 'bidding' }, { taskId: 'zz-unknown-task' })).text).toBe(
      'task zz-unkno failed: no bids',
    );
    expect(formatEvent(typedEnvelope('bid.submitted', { bidSats: 7, bidId: 'b' }, { agentId: 'agent-x', taskId: null })).text).toBe(
      'agent-x bid 7 sats on a task',
    );
    // the tool's `name` is not the agent's name; tool data is free-form but only declared fields are shown
    expect(
      formatEvent(typedEnvelope('tool.failed', { name: 'llm.complete', error: 'no provider', secretish: 'x' }), CTX).text,
    ).toBe('llm.complete failed for forge: no provider');
    expect(formatEvent(typedEnvelope('router.failover', { from: 'ollama', to: 'openai', reason: 'http_503', requestId: 'r' })).text).toBe(
      'failover ollama → openai: http_503',
    );
  });

  it('ignores keys the catalogue does not name (no guessing of old key names)', () => {
    // old guesses: status instead of to, previousStatus instead of from, amountSats instead of bidSats
    expect(formatEvent(envelope('agent.status_changed', { status: 'busy', previousStatus: 'idle' }), CTX).text).toBe('forge changed status');
    expect(formatEvent(envelope('bid.submitted', { amountSats: 35 }, { taskId: 'task-1' }), CTX).text).toBe(`forge bid ? on ${W}`);
    expect(formatEvent(envelope('agent.lifecycle', { lifecycle: 'spawning' }), CTX).text).toBe('forge ready');
  });

  it('falls back to the raw type for a type it does not know', () => {
    const f = formatEvent(envelope('made.up' as EventType, { message: 'hello' }));
    expect(f).toMatchObject({ icon: '•', label: 'made.up', text: 'hello' });
    expect(formatEvent(envelope('made.up' as EventType, { message: 42 })).text).toBe('');
  });

  it('clip keeps one line and adds an ellipsis', () => {
    expect(clip('a\n b   c', 10)).toBe('a b c');
    expect(clip('abcdefghijk', 5)).toBe('abcd…');
  });

  describe('ledger lines', () => {
    it('msatAsSats: whole sats as integers, fractions with three decimals, never msat', () => {
      expect(msatAsSats(null)).toBe('');
      expect(msatAsSats(0)).toBe('0 sats');
      expect(msatAsSats(1_000)).toBe('1 sats');
      expect(msatAsSats(1)).toBe('0.001 sats');
      expect(msatAsSats(1_050)).toBe('1.050 sats');
      expect(msatAsSats(-2_500)).toBe('-2.500 sats');
      expect(msatAsSats(Number.MAX_SAFE_INTEGER)).toBe('9007199254740.991 sats');
    });

    it.each(LEDGER_EVENT_TYPES.map((t) => [t]))('%s shows no payment hash, preimage or macaroon, even when an odd payload carries them', (type) => {
      const secret = 'f'.repeat(64);
      const data = { ...FIXTURES[type], preimage: secret, macaroon: `0201${secret}`, paymentPreimage: secret };
      const text = formatEvent(envelope(type, data), CTX).text;
      expect(text).not.toContain(secret);
      expect(text).not.toContain('a'.repeat(16));
      expect(text).not.toContain('b'.repeat(16));
      expect(text).not.toMatch(/msat/i);
    });
  });
});
