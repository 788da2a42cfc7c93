import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type EventEnvelope, type EventType } from '@app/contracts';
import { EVENT_SPECS, clip, formatEvent } from '../formatEvent';

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
  { description: 42, bidSats: 'lots', message: { nested: true }, reason: null, answer: 'yes', capabilities: 'x' },
  { description: ['a', 'b'], question: null, tool: {}, from: true, to: false, fraction: 7 },
  { description: 'x'.repeat(10_000), message: 'line1\nline2\r\n\tline3', result: '' },
];

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
      expect(f.time).toMatch(/^\d\d:\d\d:\d\d$/);
    }
  });

  it('reads like a sentence with the swarm payloads', () => {
    const ctx = {
      taskDescription: (id: string) => (id === 'task-1' ? 'write a parser for the ledger export format' : undefined),
      agentName: (id: string) => (id === 'persona-forge' ? 'forge' : undefined),
    };
    // the tool's `name` is not the agent's name
    expect(formatEvent(envelope('tool.failed', { name: 'llm.complete', reason: 'no provider' }, { taskId: 'task-1' }), ctx).text).toBe(
      'llm.complete failed for forge: no provider',
    );
    const bid = formatEvent(envelope('bid.submitted', { bidSats: 35, bidId: 'b1' }, { taskId: 'task-1' }), ctx);
    expect(bid.text).toBe("forge bid 35 sats on 'write a parser for the ledger export format'");
    expect(formatEvent(envelope('task.created', { description: 'write a parser for the ledger export format, with tests' })).text).toBe(
      "new task 'write a parser for the ledger export format, with…'",
    );
    expect(formatEvent(envelope('task.assigned', { bidSats: 35, direct: false }, { taskId: 'task-1' }), ctx).text).toBe(
      "'write a parser for the ledger export format' → forge (35 sats)",
    );
    expect(formatEvent(envelope('agent.status_changed', { from: 'idle', to: 'busy', reason: 'won' }), ctx).text).toBe('forge is now busy (was idle)');
    expect(formatEvent(envelope('agent.lifecycle', { state: 'spawning', since: '2026-11-21T10:11:12.345Z' }), ctx).text).toBe('forge spawning…');
    expect(
      formatEvent(envelope('auction.closed', { winnerAgentId: 'persona-forge', winningBidSats: 35, bidCount: 3 }, { taskId: 'task-1' }), ctx).text,
    ).toBe("auction on 'write a parser for the ledger export format' closed: forge won at 35 sats (3 bids)");
    expect(formatEvent(envelope('task.failed', { reason: 'no bids', from: 'bidding' }, { taskId: 'zz-unknown-task' })).text).toBe(
      'task zz-unkno failed: no bids',
    );
    expect(formatEvent(envelope('question.asked', { question: 'Deploy now?', options: ['yes', 'no'] }), ctx).text).toBe('forge asks: Deploy now?');
    expect(
      formatEvent(envelope('router.provider_state_changed', { provider: 'ollama', field: 'circuit', from: 'closed', to: 'open', reason: '3 failures' })).text,
    ).toBe('provider ollama circuit closed → open: 3 failures');
  });

  it('falls back to the raw type for a type it does not know', () => {
    const f = formatEvent(envelope('made.up' as EventType, { message: 'hello' }));
    expect(f).toMatchObject({ icon: '•', label: 'made.up', text: 'hello' });
  });

  it('clip keeps one line and adds an ellipsis', () => {
    expect(clip('a\n b   c', 10)).toBe('a b c');
    expect(clip('abcdefghijk', 5)).toBe('abcd…');
  });
});
