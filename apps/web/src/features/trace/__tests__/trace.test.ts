import { describe, expect, it } from 'vitest';
import type { EventEnvelope, TaskDetailDto } from '@app/contracts';
import { agentStats, buildTrace, stepLabel, traceExport } from '../trace';

const T0 = Date.parse('2026-12-02T05:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
let seq = 0;
function ev(type: string, ms: number, data: Record<string, unknown> = {}, agentId: string | null = null, taskId = 't1'): EventEnvelope {
  seq += 1;
  return { seq, id: `e${seq}`, type, source: 'test', channel: 'swarm', taskId, agentId, data, createdAt: at(ms) } as unknown as EventEnvelope;
}
function task(over: Partial<TaskDetailDto> = {}): TaskDetailDto {
  return {
    id: 't1', description: 'summarize fees', status: 'completed', assignedAgentId: 'persona-echo', winningBidSats: 20, result: 'Fees are low.', failureReason: null,
    createdBy: 'admin', auctionClosesAt: at(1000), createdAt: at(0), assignedAt: at(1000), startedAt: at(1100), completedAt: at(2500), updatedAt: at(2500),
    bids: [
      { id: 'b1', taskId: 't1', agentId: 'persona-echo', bidSats: 20, won: true, createdAt: at(100) },
      { id: 'b2', taskId: 't1', agentId: 'scout', bidSats: 25, won: false, createdAt: at(200) },
    ],
    ...over,
  };
}

describe('task trace', () => {
  const events = [
    ev('task.created', 0),
    ev('bid.submitted', 100, { bidSats: 20 }, 'persona-echo'),
    ev('bid.submitted', 200, { bidSats: 25 }, 'scout'),
    ev('auction.closed', 1000, { winnerAgentId: 'persona-echo', winningBidSats: 20, bidCount: 2 }),
    ev('bid.rejected', 1050, { reason: 'auction closed', bidSats: 5 }, 'late'),
    ev('task.assigned', 1000, {}, 'persona-echo'),
    ev('tool.called', 1200, { name: 'llm.complete', prompt: [{ role: 'system', content: 'You are Echo' }, { role: 'user', content: 'summarize fees' }] }, 'persona-echo'),
    ev('tool.completed', 2400, {
      name: 'llm.complete', provider: 'backup', model: 'gpt-4o-mini', latencyMs: 1150, durationMs: 1200, tokensIn: 12, tokensOut: 4,
      attempts: [{ provider: 'ollama-local', outcome: 'error', reason: 'timeout', latencyMs: 400 }, { provider: 'backup', outcome: 'success', reason: null, latencyMs: 700 }],
    }, 'persona-echo'),
    ev('task.completed', 2500, { result: 'Fees are low.' }, 'persona-echo'),
  ];

  it('derives auction, LLM calls with failover and prompt, tool spans, full result; dedupes snapshot + live frames', () => {
    const tr = buildTrace(task(), [...events, events[3], events[7]], T0 + 99_999);
    expect(tr.timeline.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(tr.auction).toMatchObject({ winnerAgentId: 'persona-echo', winningBidSats: 20, closedAt: at(1000) });
    expect(tr.auction.rejected).toEqual([{ agentId: 'late', bidSats: 5, reason: 'auction closed', at: at(1050) }]);
    expect(tr.llmCalls).toHaveLength(1);
    expect(tr.llmCalls[0]).toMatchObject({ provider: 'backup', model: 'gpt-4o-mini', tokensIn: 12, tokensOut: 4, latencyMs: 1150, ok: true, response: 'Fees are low.' });
    expect(tr.llmCalls[0].attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual(['ollama-local:error', 'backup:success']);
    expect(tr.llmCalls[0].prompt?.[0]).toEqual({ role: 'system', content: 'You are Echo' });
    expect(tr.tools).toEqual([{ name: 'llm.complete', startOffsetMs: 1200, durationMs: 1200, status: 'ok', error: null }]);
    expect(tr.elapsedMs).toBe(2500); // terminal: creation to completion, not to "now"
    expect(tr.currentStep).toBeNull();
  });

  it('a running task: elapsed to now, current step, running tool span', () => {
    const running = events.slice(0, 7);
    const tr = buildTrace(task({ status: 'running', result: null, completedAt: null }), running, T0 + 5000);
    expect(tr.elapsedMs).toBe(5000);
    expect(tr.currentStep).toBe('calling llm.complete');
    expect(tr.tools[0]).toMatchObject({ status: 'running', durationMs: null });
  });

  it('a failed LLM call keeps its error and attempts', () => {
    const failed = [ev('tool.called', 10, { name: 'llm.complete' }), ev('tool.failed', 900, { name: 'llm.complete', reason: 'All providers failed', durationMs: 890, attempts: [{ provider: 'ollama-local', outcome: 'error', reason: 'connection_refused', latencyMs: 2 }] })];
    const tr = buildTrace(task({ status: 'failed', result: null, failureReason: 'LLM router: All providers failed' }), failed, T0);
    expect(tr.llmCalls[0]).toMatchObject({ ok: false, error: 'All providers failed', response: null });
    expect(tr.tools[0]).toMatchObject({ status: 'error', durationMs: 890 });
  });

  it('exports every event and the derived parts as JSON', () => {
    const tr = buildTrace(task(), events, T0);
    const json = JSON.parse(traceExport(task(), tr));
    expect(json.format).toBe('mission-control.task-trace/v1');
    expect(json.events).toHaveLength(events.length);
    expect(json.task.result).toBe('Fees are low.');
    expect(json.llmCalls[0].attempts).toHaveLength(2);
  });

  it('agent stats count only closed auctions as outcomes', () => {
    const bids = [ev('bid.submitted', 0, { bidSats: 20 }, 'echo', 'a'), ev('bid.submitted', 0, { bidSats: 18 }, 'echo', 'b'), ev('bid.submitted', 0, { bidSats: 17 }, 'echo', 'c')];
    const closed = [ev('auction.closed', 10, { winnerAgentId: 'echo' }, 'echo', 'a'), ev('auction.closed', 10, { winnerAgentId: 'scout' }, 'scout', 'b')];
    const s = agentStats('echo', bids, closed);
    expect(s).toMatchObject({ auctionsDecided: 2, auctionsWon: 1, winRate: 0.5 });
    expect(Object.fromEntries(s.bids.map((b) => [b.taskId, b.outcome]))).toEqual({ a: 'won', b: 'lost', c: 'open' });
  });

  it('labels an operator assignment mid-auction and a reassignment from the typed payloads', () => {
    expect(stepLabel(ev('auction.closed', 0, { winnerAgentId: 'scout', winningBidSats: null, bidCount: 1, assignedBy: 'admin' }))).toBe('auction closed: admin assigned scout');
    expect(stepLabel(ev('auction.closed', 0, { winnerAgentId: 'scout', winningBidSats: 9, bidCount: 1, assignedBy: 'admin' }))).toBe('auction closed: admin assigned scout at 9 sats');
    expect(stepLabel(ev('task.assigned', 0, { bidSats: null, direct: true, reassignedFrom: 'echo' }, 'scout'))).toBe('assigned to scout (was echo)');
  });

  it('payloads that do not match the catalogue (not an object, wrong field types) neither throw nor show as values', () => {
    const broken = [
      ev('task.created', 0),
      { ...ev('tool.called', 10), data: 'not an object' } as unknown as EventEnvelope,
      ev('tool.completed', 20, { name: 7, attempts: 'x', tokensIn: 'many', prompt: [null, 3] }),
      ev('bid.rejected', 30, { reason: { html: '<b>x</b>' }, bidSats: '5' }, 'late'),
    ];
    const tr = buildTrace(task({ status: 'running', completedAt: null }), broken, T0 + 100);
    expect(tr.tools.map((x) => [x.name, x.status])).toEqual([['tool', 'ok']]);
    expect(tr.auction.rejected).toEqual([{ agentId: 'late', bidSats: null, reason: 'rejected', at: at(30) }]);
    expect(stepLabel(broken[1])).toBe('calling tool');
  });
});
