import { beforeEach, describe, expect, it } from 'vitest';
import { QueryClient, type QueryKey } from '@tanstack/react-query';
import type { AgentDto, EventDataMap, EventEnvelope, EventEnvelopeOf, EventType, ListResponse, TaskDetailDto, TaskDto } from '@app/contracts';
import type { Snapshot } from '../../../../lib/realtime-react';
import { swarmKeys } from '../../api/swarm.queries';
import { applySwarmEvents } from '../useSwarmLiveUpdates';

const T0 = '2026-11-21T10:00:00.000Z';
const AT = '2026-11-21T10:11:12.345Z';

let seq = 0;
/** A typed envelope: `data` type-checks against the catalogue, so a renamed field breaks this test at tsc. */
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

/** An envelope with untrusted data (an older server, a broken producer). */
function raw(type: EventType, data: Record<string, unknown>, ids: { taskId?: string; agentId?: string } = {}): EventEnvelope {
  return { ...(ev('task.started', {}, ids) as object), type, data } as unknown as EventEnvelope;
}

function agent(id: string, patch: Partial<AgentDto> = {}): AgentDto {
  return {
    id,
    name: id,
    kind: 'persona',
    personaId: null,
    capabilities: [],
    status: 'idle',
    lifecycle: null,
    lifecycleSince: null,
    lastHeartbeatAt: null,
    createdAt: T0,
    updatedAt: T0,
    unavailableReason: null,
    ...patch,
  };
}

function task(id: string, patch: Partial<TaskDto> = {}): TaskDto {
  return {
    id,
    description: `task ${id}`,
    status: 'bidding',
    assignedAgentId: null,
    winningBidSats: null,
    result: null,
    failureReason: null,
    createdBy: 'user:alice',
    auctionClosesAt: AT,
    createdAt: T0,
    assignedAt: null,
    startedAt: null,
    completedAt: null,
    updatedAt: T0,
    ...patch,
  };
}

let qc: QueryClient;
let invalidated: string[];
const apply = (...events: EventEnvelope[]) => applySwarmEvents(qc, events, (key: QueryKey) => invalidated.push(JSON.stringify(key)));
const agents = () => qc.getQueryData<Snapshot<ListResponse<AgentDto>>>(swarmKeys.agents())!.items;
const agentById = (id: string) => agents().find((a) => a.id === id)!;
const detail = (id: string) => qc.getQueryData<TaskDetailDto>(swarmKeys.task(id))!;
const listed = (id: string) => qc.getQueryData<ListResponse<TaskDto>>(swarmKeys.tasks())!.items.find((t) => t.id === id)!;
const key = (k: QueryKey) => JSON.stringify(k);

beforeEach(() => {
  qc = new QueryClient();
  invalidated = [];
  qc.setQueryData(swarmKeys.agents(), {
    items: [agent('persona-forge'), agent('persona-echo', { status: 'busy' })],
    headSeq: 0,
    snapshotId: 1,
  });
  qc.setQueryData(swarmKeys.tasks(), { items: [task('t1'), task('t2', { status: 'completed' })], headSeq: 0 });
  qc.setQueryData(swarmKeys.task('t1'), {
    ...task('t1'),
    bids: [{ id: 'bid-0', taskId: 't1', agentId: 'persona-echo', bidSats: 50, won: false, createdAt: T0 }],
  });
});

describe('applySwarmEvents', () => {
  it('agent.status_changed patches the status from `to` and refetches the agent lists', () => {
    apply(ev('agent.status_changed', { from: 'idle', to: 'busy', reason: 'won an auction' }, { agentId: 'persona-forge' }));
    expect(agentById('persona-forge').status).toBe('busy');
    expect(agentById('persona-echo').status).toBe('busy');
    expect(invalidated).toEqual([key(swarmKeys.agents()), key(swarmKeys.personas())]);
  });

  it('agent.status_changed ignores the guessed `status` key and unknown statuses', () => {
    apply(raw('agent.status_changed', { status: 'offline' }, { agentId: 'persona-forge' }));
    apply(raw('agent.status_changed', { from: 'idle', to: 'asleep' }, { agentId: 'persona-forge' }));
    expect(agentById('persona-forge').status).toBe('idle');
    // the refetch still happens
    expect(invalidated).toContain(key(swarmKeys.agents()));
  });

  it('agent.lifecycle sets the transient from `state`/`since` and clears it with state null', () => {
    apply(ev('agent.lifecycle', { state: 'restarting', since: T0, by: 'user:alice' }, { agentId: 'persona-forge' }));
    expect(agentById('persona-forge')).toMatchObject({ lifecycle: 'restarting', lifecycleSince: T0 });
    apply(ev('agent.lifecycle', { state: null, since: null, previous: 'restarting' }, { agentId: 'persona-forge' }));
    expect(agentById('persona-forge')).toMatchObject({ lifecycle: null, lifecycleSince: null });
  });

  it('agent.lifecycle with a bad since uses the event time; an unknown state does not patch', () => {
    apply(raw('agent.lifecycle', { state: 'spawning', since: 'soon' }, { agentId: 'persona-forge' }));
    expect(agentById('persona-forge')).toMatchObject({ lifecycle: 'spawning', lifecycleSince: AT });
    apply(raw('agent.lifecycle', { lifecycle: 'stopping' }, { agentId: 'persona-forge' }));
    apply(raw('agent.lifecycle', { state: 'exploding', since: T0 }, { agentId: 'persona-forge' }));
    expect(agentById('persona-forge')).toMatchObject({ lifecycle: 'spawning', lifecycleSince: AT });
  });

  it('bid.submitted adds the bid with its `bidId` and `bidSats`, once', () => {
    const bid = ev('bid.submitted', { bidSats: 35, bidId: 'bid-1' }, { taskId: 't1', agentId: 'persona-forge' });
    apply(bid, bid);
    expect(detail('t1').bids).toEqual([
      expect.objectContaining({ id: 'bid-0' }),
      { id: 'bid-1', taskId: 't1', agentId: 'persona-forge', bidSats: 35, won: false, createdAt: AT },
    ]);
    expect(invalidated).toEqual([]);
  });

  it('bid.submitted with an unusable payload refetches the task instead of inventing a bid', () => {
    apply(raw('bid.submitted', { amountSats: 35, bidId: 'bid-2' }, { taskId: 't1', agentId: 'persona-forge' }));
    apply(raw('bid.submitted', { bidSats: 35 }, { taskId: 't1', agentId: 'persona-forge' }));
    expect(detail('t1').bids.map((b) => b.id)).toEqual(['bid-0']);
    expect(invalidated).toEqual([key(swarmKeys.task('t1')), key(swarmKeys.task('t1'))]);
  });

  it('task.assigned moves the task to assigned with the winner and `bidSats`, and marks the winning bid', () => {
    apply(ev('bid.submitted', { bidSats: 35, bidId: 'bid-1' }, { taskId: 't1', agentId: 'persona-forge' }));
    apply(ev('task.assigned', { bidSats: 35, direct: false }, { taskId: 't1', agentId: 'persona-forge' }));
    for (const t of [listed('t1'), detail('t1')]) {
      expect(t).toMatchObject({ status: 'assigned', assignedAgentId: 'persona-forge', winningBidSats: 35, assignedAt: AT });
    }
    expect(detail('t1').bids.map((b) => [b.id, b.won])).toEqual([
      ['bid-0', false],
      ['bid-1', true],
    ]);
    expect(invalidated).toEqual([key(swarmKeys.tasks()), key(swarmKeys.task('t1')), key(swarmKeys.agents())]);
  });

  it('task events move a task forward only: a late frame never moves it back', () => {
    apply(ev('task.assigned', { bidSats: null, direct: true }, { taskId: 't1', agentId: 'persona-forge' }));
    expect(listed('t1')).toMatchObject({ status: 'assigned', winningBidSats: null });
    apply(ev('task.started', {}, { taskId: 't1', agentId: 'persona-forge' }));
    apply(ev('task.completed', { result: 'done', bidSats: null, by: 'agent:persona-forge' }, { taskId: 't1', agentId: 'persona-forge' }));
    expect(listed('t1')).toMatchObject({ status: 'completed', result: 'done', completedAt: AT });
    // replayed / late frames
    apply(ev('task.started', {}, { taskId: 't1', agentId: 'persona-forge' }));
    apply(ev('task.failed', { reason: 'late', from: 'running' }, { taskId: 't1', agentId: 'persona-forge' }));
    expect(listed('t1')).toMatchObject({ status: 'completed', result: 'done', failureReason: null });
    expect(detail('t1').status).toBe('completed');
    // t2 was already completed in the snapshot
    apply(ev('task.cancelled', { reason: 'too late', by: 'user:alice' }, { taskId: 't2' }));
    expect(listed('t2').status).toBe('completed');
  });

  it('task.failed and task.cancelled carry `reason` into failureReason', () => {
    apply(ev('task.failed', { reason: 'no bids received', from: 'bidding' }, { taskId: 't1' }));
    expect(listed('t1')).toMatchObject({ status: 'failed', failureReason: 'no bids received' });
    qc.setQueryData(swarmKeys.tasks(), { items: [task('t3')], headSeq: 0 });
    apply(ev('task.cancelled', { reason: null, by: 'user:alice' }, { taskId: 't3' }));
    expect(listed('t3')).toMatchObject({ status: 'cancelled', failureReason: null });
  });

  it('refetches the lists an event affects', () => {
    apply(ev('task.created', { description: 'x', createdBy: 'user:alice' }, { taskId: 't9' }));
    expect(invalidated).toEqual([key(swarmKeys.tasks()), key(swarmKeys.task('t9'))]);
    invalidated = [];
    apply(ev('task.progress', { message: 'half', fraction: 0.5 }, { taskId: 't1' }));
    expect(invalidated).toEqual([key(swarmKeys.tasks())]);
    invalidated = [];
    apply(ev('auction.closed', { winnerAgentId: null, winningBidSats: null, bidCount: 0, closesAt: AT }, { taskId: 't1' }));
    expect(invalidated).toEqual([key(swarmKeys.tasks()), key(swarmKeys.task('t1'))]);
    invalidated = [];
    apply(ev('agent.joined', { name: 'scout', kind: 'external', capabilities: [] }, { agentId: 'agent-scout' }));
    expect(invalidated).toEqual([key(swarmKeys.agents()), key(swarmKeys.personas())]);
    invalidated = [];
    apply(ev('message.sent', { messageId: 'm', fromAgentId: null, toAgentId: 'a', bodyPreview: 'hi', by: 'user:alice' }));
    apply(ev('bid.rejected', { reason: 'closed', bidSats: 3, code: 'swarm/auction_closed' }, { taskId: 't1', agentId: 'persona-forge' }));
    expect(invalidated).toEqual([]);
  });

  it('survives payloads that are not objects (no patch from fields that are not there)', () => {
    for (const data of [null, 'busy', 42, ['busy']]) {
      for (const type of ['agent.status_changed', 'agent.lifecycle', 'bid.submitted', 'task.assigned', 'task.completed'] as const) {
        apply({ ...(raw(type, {}, { taskId: 't1', agentId: 'persona-forge' }) as object), data } as unknown as EventEnvelope);
      }
    }
    expect(agentById('persona-forge')).toMatchObject({ status: 'idle', lifecycle: null });
    expect(detail('t1').bids.map((b) => b.id)).toEqual(['bid-0']);
    expect(invalidated).toContain(key(swarmKeys.task('t1')));
  });

  it('leaves caches that are not loaded alone', () => {
    qc.removeQueries({ queryKey: swarmKeys.all });
    apply(
      ev('agent.status_changed', { from: 'idle', to: 'busy', reason: 'x' }, { agentId: 'persona-forge' }),
      ev('task.assigned', { bidSats: 1, direct: false }, { taskId: 't1', agentId: 'persona-forge' }),
      ev('bid.submitted', { bidSats: 1, bidId: 'b' }, { taskId: 't1', agentId: 'persona-forge' }),
    );
    expect(qc.getQueryData(swarmKeys.agents())).toBeUndefined();
    expect(qc.getQueryData(swarmKeys.task('t1'))).toBeUndefined();
  });
});
