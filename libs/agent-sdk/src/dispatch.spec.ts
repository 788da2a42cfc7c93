import type { EventDataMap, EventEnvelope, EventEnvelopeOf, EventType } from '@app/contracts';
import { planFrame } from './dispatch';

const AT = '2026-11-21T10:11:12.345Z';
const ME = 'agent-me';

let seq = 0;
/** A typed envelope: `data` type-checks against the catalogue (a renamed field breaks `tsc -p tsconfig.spec.json`). */
function ev<T extends EventType>(type: T, data: EventDataMap[T], ids: { taskId?: string | null; agentId?: string | null } = {}): EventEnvelope {
  const e: EventEnvelopeOf<T> = {
    seq: ++seq,
    id: `ev-${seq}`,
    type,
    source: 'coordinator',
    channel: 'swarm',
    taskId: ids.taskId ?? null,
    agentId: ids.agentId ?? null,
    data,
    createdAt: AT,
  };
  return e as unknown as EventEnvelope;
}

/** An envelope with untrusted data (older server, broken producer). */
function raw(type: EventType, data: unknown, ids: { taskId?: string; agentId?: string } = {}): EventEnvelope {
  return { ...(ev('task.started', {}, ids) as object), type, data } as unknown as EventEnvelope;
}

describe(planFrame.name, () => {
  it('offers task.bidding with its typed closesAt, unless the auction ended later in the same frame', () => {
    const plan = planFrame(
      [
        ev('task.bidding', { closesAt: AT, windowMs: 30_000 }, { taskId: 't1' }),
        ev('task.bidding', { closesAt: AT, windowMs: 30_000 }, { taskId: 't2' }),
        ev('auction.closed', { winnerAgentId: null, winningBidSats: null, bidCount: 0, closesAt: AT }, { taskId: 't2' }),
        raw('task.bidding', { closesAt: 'later', auctionClosesAt: AT }, { taskId: 't3' }),
      ],
      'swarm',
      ME,
    );
    expect(plan.offers).toEqual([
      { taskId: 't1', closesAt: AT },
      { taskId: 't3', closesAt: null },
    ]);
  });

  it('runs task.assigned only when the envelope agent is us', () => {
    const plan = planFrame(
      [
        ev('task.assigned', { bidSats: 5, direct: false }, { taskId: 't1', agentId: ME }),
        ev('task.assigned', { bidSats: 6, direct: false }, { taskId: 't2', agentId: 'agent-other' }),
        ev('task.assigned', { bidSats: null, direct: true }, { taskId: 't3', agentId: null }),
      ],
      'swarm',
      ME,
    );
    expect(plan.assigned).toEqual(['t1']);
    expect(planFrame([ev('task.assigned', { bidSats: 5, direct: false }, { taskId: 't1', agentId: null })], 'swarm', null).assigned).toEqual([]);
  });

  it('fetches messages for message.sent whose toAgentId is us', () => {
    const to = (toAgentId: string) => ev('message.sent', { messageId: 'm', fromAgentId: null, toAgentId, bodyPreview: 'hi', by: 'user:alice' }, { agentId: toAgentId });
    expect(planFrame([to('agent-other')], 'swarm', ME).messages).toBe(false);
    expect(planFrame([to(ME)], 'swarm', ME).messages).toBe(true);
    // older payload without toAgentId: only on our own agent channel
    expect(planFrame([raw('message.sent', { body: 'x' })], 'swarm', ME).messages).toBe(false);
    expect(planFrame([raw('message.sent', { body: 'x' })], `agent:${ME}`, ME).messages).toBe(true);
    // message.delivered is not a new message
    expect(planFrame([ev('message.delivered', { messageId: 'm', fromAgentId: null, toAgentId: ME })], `agent:${ME}`, ME).messages).toBe(false);
  });

  it('reads questionId and answer of the question events', () => {
    const plan = planFrame(
      [
        ev('question.answered', { questionId: 'q1', answer: ['yes'], answeredBy: 'user:alice' }, { agentId: ME }),
        ev('question.cancelled', { questionId: 'q2', by: 'user:alice' }, { agentId: ME }),
        ev('question.expired', { questionId: 'q3', deadline: AT }, { agentId: ME }),
        raw('question.answered', { questionId: 'q4', answer: 'yes' }, { agentId: ME }),
      ],
      `agent:${ME}`,
      ME,
    );
    expect(plan.questions).toEqual([
      { questionId: 'q1', status: 'answered', answer: ['yes'] },
      { questionId: 'q2', status: 'cancelled', answer: null },
      { questionId: 'q3', status: 'expired', answer: null },
      { questionId: 'q4', status: 'answered', answer: null },
    ]);
    expect(plan.recheckAllQuestions).toBe(false);
  });

  it('re-reads every pending question when a question event has no usable questionId', () => {
    const plan = planFrame([raw('question.answered', { id: 'q1', answer: ['yes'] }), raw('question.expired', null)], `agent:${ME}`, ME);
    expect(plan.questions).toEqual([]);
    expect(plan.recheckAllQuestions).toBe(true);
  });

  it('ignores types it does not act on and odd data', () => {
    const plan = planFrame(
      [
        ev('bid.submitted', { bidSats: 5, bidId: 'b' }, { taskId: 't1', agentId: ME }),
        ev('agent.status_changed', { from: 'idle', to: 'busy', reason: 'x' }, { agentId: ME }),
        raw('task.bidding', 'not an object', { taskId: 't9' }),
      ],
      'swarm',
      ME,
    );
    expect(plan).toEqual({ offers: [{ taskId: 't9', closesAt: null }], assigned: [], messages: false, questions: [], recheckAllQuestions: false, upgrades: [] });
  });

  it('hands upgrade.* events on our own agent channel to the upgrade handlers, in order; not those of other channels', () => {
    const proposed = ev('upgrade.proposed', {
      upgradeId: 'u1',
      title: 'faster parser',
      kind: 'diff',
      branch: null,
      baseCommit: 'a'.repeat(40),
      headCommit: 'b'.repeat(40),
      diffSha256: 'c'.repeat(64),
      files: 1,
      linesAdded: 2,
      linesRemoved: 0,
      requiresAdmin: false,
      by: `agent:${ME}`,
    });
    const output = ev('upgrade.test_output', { upgradeId: 'u1', attempt: 1, offset: 0, chunk: 'ok', truncated: false });
    const applied = ev('upgrade.applied', {
      upgradeId: 'u1',
      title: 'faster parser',
      previousHead: 'a'.repeat(40),
      newHead: 'd'.repeat(40),
      attempt: 1,
      durationMs: 10,
      healthExitCode: 0,
    });
    const frame = [proposed, ev('task.started', {}, { taskId: 't1' }), output, applied, raw('upgrade.unknown' as EventType, {})];
    expect(planFrame(frame, `agent:${ME}`, ME).upgrades).toEqual([proposed, output, applied]);
    expect(planFrame(frame, 'upgrades', ME).upgrades).toEqual([]);
    expect(planFrame(frame, 'agent:someone-else', ME).upgrades).toEqual([]);
    expect(planFrame(frame, `agent:${ME}`, null).upgrades).toEqual([]);
  });
});
