import { useEffect, useRef } from 'react';
import { useQuery, useQueryClient, type QueryClient, type QueryKey } from '@tanstack/react-query';
import { AGENT_STATUSES, type AgentDto, type AgentStatus, type BidDto, type EventEnvelope, type TaskDetailDto } from '@app/contracts';
import { useBaseline, useChannel, type Snapshot } from '../../../lib/realtime-react';
import type { ListResponse } from '@app/contracts';
import { agentsQuery, swarmKeys } from '../api/swarm.queries';

const LIFECYCLES = ['spawning', 'stopping', 'restarting', 'joining', 'leaving'];

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

/**
 * Applies swarm-channel events to the react-query cache: exact patches where the event carries the new value
 * (agent status and lifecycle, new bids), throttled refetches of the affected lists otherwise.
 */
export function applySwarmEvents(qc: QueryClient, events: readonly EventEnvelope[], invalidate: (key: QueryKey) => void): void {
  for (const e of events) {
    const data = (e.data ?? {}) as Record<string, unknown>;
    const prefix = e.type.slice(0, e.type.indexOf('.'));
    if (prefix === 'agent') {
      // agent.status_changed {from, to, reason}
      const to = data.to ?? data.status;
      if (e.agentId && e.type === 'agent.status_changed' && AGENT_STATUSES.includes(to as AgentStatus)) {
        patchAgent(qc, e.agentId, { status: to as AgentStatus });
      }
      // agent.lifecycle {state, since} (state null clears the transient)
      if (e.agentId && e.type === 'agent.lifecycle') {
        const state = typeof data.state === 'string' ? data.state : typeof data.lifecycle === 'string' ? data.lifecycle : null;
        const lifecycle = state && LIFECYCLES.includes(state) ? (state as AgentDto['lifecycle']) : null;
        const since = typeof data.since === 'string' ? data.since : e.createdAt;
        patchAgent(qc, e.agentId, { lifecycle, lifecycleSince: lifecycle ? since : null });
      }
      invalidate(swarmKeys.agents());
      invalidate(swarmKeys.personas());
      continue;
    }
    if (e.type === 'bid.submitted' && e.taskId && e.agentId) {
      const bidSats = typeof data.bidSats === 'number' ? data.bidSats : Number(data.bidSats);
      if (Number.isFinite(bidSats)) {
        const bid: BidDto = {
          id: typeof data.bidId === 'string' ? data.bidId : e.id,
          taskId: e.taskId,
          agentId: e.agentId,
          bidSats,
          won: false,
          createdAt: e.createdAt,
        };
        qc.setQueryData<TaskDetailDto>(swarmKeys.task(e.taskId), (old) =>
          old && !old.bids.some((b) => b.id === bid.id || b.agentId === bid.agentId) ? { ...old, bids: [...old.bids, bid] } : old,
        );
      } else invalidate(swarmKeys.task(e.taskId));
      continue;
    }
    if (prefix === 'task' || prefix === 'auction') {
      invalidate(swarmKeys.tasks());
      if (e.taskId && e.type !== 'task.progress') invalidate(swarmKeys.task(e.taskId));
      if (e.type === 'task.assigned' || e.type === 'task.completed' || e.type === 'task.failed') invalidate(swarmKeys.agents());
    }
  }
}

/**
 * The swarm feature's one realtime hook: subscribes to the `swarm` channel and patches/refetches agents,
 * personas, tasks and auctions. Mount once on the Live page.
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
}
