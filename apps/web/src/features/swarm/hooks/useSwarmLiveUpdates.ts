import { useEffect, useRef } from 'react';
import { useQuery, useQueryClient, type QueryClient, type QueryKey } from '@tanstack/react-query';
import {
  AGENT_STATUSES,
  type AgentDto,
  type AgentLifecycleState,
  type AgentStatus,
  type BidDto,
  type EventEnvelope,
  type EventType,
  type TaskDetailDto,
  type TaskDto,
  type TaskStatus,
} from '@app/contracts';
import { useBaseline, useChannel, type Snapshot } from '../../../lib/realtime-react';
import type { ListResponse } from '@app/contracts';
import { agentsQuery, swarmKeys } from '../api/swarm.queries';

/** Collects keys to refetch and flushes them at most every `ms` (a burst of bids is one refetch, not hundreds). */
function createThrottledInvalidator(qc: QueryClient, ms: number) {
  const pending = new Map<string, QueryKey>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    add(key: QueryKey) {
      pending.set(JSON.stringify(key), key);
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        const keys = [...pending.values()];
        pending.clear();
        for (const k of keys) void qc.invalidateQueries({ queryKey: k });
      }, ms);
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
      pending.clear();
    },
  };
}

function patchAgent(qc: QueryClient, id: string, patch: Partial<AgentDto>): void {
  qc.setQueryData<Snapshot<ListResponse<AgentDto>>>(swarmKeys.agents(), (old) =>
    old ? { ...old, items: old.items.map((a) => (a.id === id ? { ...a, ...patch } : a)) } : old,
  );
}

/** Every lifecycle transient (a Record so a state added to the contract must be listed here). */
const LIFECYCLE_STATES: Record<AgentLifecycleState, true> = { spawning: true, stopping: true, restarting: true, joining: true, leaving: true };

const isLifecycleState = (v: unknown): v is AgentLifecycleState => typeof v === 'string' && Object.hasOwn(LIFECYCLE_STATES, v);
const isAgentStatus = (v: unknown): v is AgentStatus => typeof v === 'string' && (AGENT_STATUSES as readonly string[]).includes(v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIsoTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/**
 * The status a task event moves a task to, and the statuses it may move from. A patch applies only from those, so a
 * late frame never moves a task back (e.g. `task.started` arriving after a refetch that already saw `completed`).
 */
const TASK_TRANSITIONS = {
  'task.assigned': { to: 'assigned', from: ['pending', 'bidding'] },
  'task.started': { to: 'running', from: ['assigned'] },
  'task.completed': { to: 'completed', from: ['assigned', 'running'] },
  'task.failed': { to: 'failed', from: ['pending', 'bidding', 'assigned', 'running'] },
  'task.cancelled': { to: 'cancelled', from: ['pending', 'bidding', 'assigned', 'running'] },
} as const satisfies Partial<Record<EventType, { to: TaskStatus; from: readonly TaskStatus[] }>>;

type TaskTransitionType = keyof typeof TASK_TRANSITIONS;

/** The fields of a task a typed task event sets (besides its status). */
function taskPatch(e: EventEnvelope<TaskTransitionType>): Partial<TaskDto> {
  switch (e.type) {
    case 'task.assigned': {
      const bidSats = e.data.bidSats;
      return {
        assignedAgentId: e.agentId,
        winningBidSats: typeof bidSats === 'number' && Number.isFinite(bidSats) ? bidSats : null,
        assignedAt: e.createdAt,
      };
    }
    case 'task.started':
      return { startedAt: e.createdAt };
    case 'task.completed':
      return { result: typeof e.data.result === 'string' ? e.data.result : null, completedAt: e.createdAt };
    case 'task.failed':
      return { failureReason: typeof e.data.reason === 'string' ? e.data.reason : null, completedAt: e.createdAt };
    case 'task.cancelled':
      return { failureReason: typeof e.data.reason === 'string' ? e.data.reason : null, completedAt: e.createdAt };
  }
}

/** Moves a task forward in the tasks list and its detail when the cached copy is in one of the allowed statuses. */
function patchTask(qc: QueryClient, e: EventEnvelope<TaskTransitionType>): void {
  if (!e.taskId) return;
  const { to, from } = TASK_TRANSITIONS[e.type];
  const allowed = from as readonly TaskStatus[];
  const patch = { ...taskPatch(e), status: to, updatedAt: e.createdAt };
  const apply = <T extends TaskDto>(t: T): T => (t.id === e.taskId && allowed.includes(t.status) ? { ...t, ...patch } : t);
  qc.setQueryData<ListResponse<TaskDto>>(swarmKeys.tasks(), (old) => (old ? { ...old, items: old.items.map(apply) } : old));
  qc.setQueryData<TaskDetailDto>(swarmKeys.task(e.taskId), (old) => {
    if (!old) return old;
    const next = apply(old);
    if (next === old || e.type !== 'task.assigned') return next;
    return { ...next, bids: next.bids.map((b) => (b.agentId === e.agentId ? { ...b, won: true } : b)) };
  });
}

/** Adds a bid to the task detail from `bid.submitted { bidSats, bidId }`; false when the payload is not usable. */
function addBid(qc: QueryClient, e: EventEnvelope<'bid.submitted'>): boolean {
  const { bidSats, bidId } = e.data;
  if (!e.taskId || !e.agentId || typeof bidSats !== 'number' || !Number.isInteger(bidSats) || typeof bidId !== 'string' || !bidId) return false;
  const bid: BidDto = { id: bidId, taskId: e.taskId, agentId: e.agentId, bidSats, won: false, createdAt: e.createdAt };
  qc.setQueryData<TaskDetailDto>(swarmKeys.task(e.taskId), (old) =>
    old && !old.bids.some((b) => b.id === bid.id || b.agentId === bid.agentId) ? { ...old, bids: [...old.bids, bid] } : old,
  );
  return true;
}

/**
 * Applies swarm-channel events to the react-query cache, reading the payloads `EventDataMap` declares: exact patches
 * where the event carries the new value (`agent.status_changed.to`, `agent.lifecycle.state/since`,
 * `bid.submitted.bidSats/bidId`, task status moves), plus throttled refetches of the affected lists (the server
 * stays the source of truth; a payload that does not match the catalogue, e.g. from an older server, only refetches).
 */
export function applySwarmEvents(qc: QueryClient, events: readonly EventEnvelope[], invalidate: (key: QueryKey) => void): void {
  const agentLists = () => {
    invalidate(swarmKeys.agents());
    invalidate(swarmKeys.personas());
  };
  const taskLists = (taskId: string | null) => {
    invalidate(swarmKeys.tasks());
    if (taskId) invalidate(swarmKeys.task(taskId));
  };
  for (const received of events) {
    // The wire is not trusted: a payload that is not an object reads as one without fields (refetch only).
    const e = isRecord(received.data) ? received : ({ ...received, data: {} } as unknown as EventEnvelope);
    switch (e.type) {
      case 'agent.status_changed':
        if (e.agentId && isAgentStatus(e.data.to)) patchAgent(qc, e.agentId, { status: e.data.to });
        agentLists();
        break;
      case 'agent.lifecycle': {
        const { state, since } = e.data;
        if (e.agentId && state === null) patchAgent(qc, e.agentId, { lifecycle: null, lifecycleSince: null });
        else if (e.agentId && isLifecycleState(state)) patchAgent(qc, e.agentId, { lifecycle: state, lifecycleSince: isIsoTime(since) ? since : e.createdAt });
        agentLists();
        break;
      }
      case 'agent.joined':
      case 'agent.left':
        agentLists();
        break;
      case 'bid.submitted':
        if (!addBid(qc, e) && e.taskId) invalidate(swarmKeys.task(e.taskId));
        break;
      case 'task.assigned':
      case 'task.completed':
      case 'task.failed':
        patchTask(qc, e);
        taskLists(e.taskId);
        invalidate(swarmKeys.agents());
        break;
      case 'task.started':
      case 'task.cancelled':
        patchTask(qc, e);
        taskLists(e.taskId);
        break;
      case 'task.created':
      case 'task.bidding':
      case 'auction.closed':
        taskLists(e.taskId);
        break;
      case 'task.progress':
        invalidate(swarmKeys.tasks());
        break;
      default:
        break;
    }
  }
}

/**
 * The swarm feature's one realtime hook: subscribes to the `swarm` channel and patches/refetches agents,
 * personas, tasks and auctions, and to `router` for provider state changes (personas' `unavailableReason`). Mount
 * once on the Live page.
 */
export function useSwarmLiveUpdates(): void {
  const qc = useQueryClient();
  const agents = useQuery(agentsQuery());
  const invalidatorRef = useRef<ReturnType<typeof createThrottledInvalidator> | null>(null);
  if (!invalidatorRef.current) invalidatorRef.current = createThrottledInvalidator(qc, 250);
  useEffect(() => () => invalidatorRef.current?.cancel(), []);

  const sub = useChannel('swarm', {
    onEvents: (events) => applySwarmEvents(qc, events, (key) => invalidatorRef.current?.add(key)),
    onGap: () => {
      void qc.invalidateQueries({ queryKey: swarmKeys.all });
    },
  });
  useBaseline(sub, agents.data);
  // a persona's `unavailableReason` follows the LLM router's state: a provider state change refetches the agents
  const routerSub = useChannel('router', {
    onEvents: (events) => {
      if (events.some((e) => e.type === 'router.provider_state_changed')) invalidatorRef.current?.add(swarmKeys.agents());
    },
    onGap: () => {
      void qc.invalidateQueries({ queryKey: swarmKeys.agents() });
    },
  });
  useBaseline(routerSub, agents.data);
}
