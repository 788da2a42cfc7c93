import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreateTaskRequest, EventEnvelope } from '@app/contracts';
import { useBaseline, useChannel, type Snapshot } from '../../../lib/realtime-react';
import type { EventPage } from '@app/contracts';
import { postAssign, postCancel, postTask } from '../api/trace.api';
import { agentBidsQuery, agentMessagesQuery, agentQuery, agentTasksQuery, closedAuctionsQuery, taskDetailQuery, taskEventsQuery, traceKeys } from '../api/trace.queries';

/** Appends live events to an events snapshot (dedupe by seq; kept oldest first). */
export function mergeEvents(old: Snapshot<EventPage>, events: readonly EventEnvelope[]): Snapshot<EventPage> {
  const seen = new Set(old.items.map((e) => e.seq));
  const fresh = events.filter((e) => !seen.has(e.seq));
  if (fresh.length === 0) return old;
  return { ...old, items: [...old.items, ...fresh].sort((a, b) => a.seq - b.seq) };
}

/**
 * The task page's data and its one realtime hook: the task detail and its events, patched live from the
 * `task:<id>` channel (every event appended; task.* and bid.* events refetch the detail, which carries the bids).
 */
export function useTaskTrace(id: string) {
  const qc = useQueryClient();
  const detail = useQuery(taskDetailQuery(id));
  const events = useQuery(taskEventsQuery(id));
  const sub = useChannel(`task:${id}`, {
    onEvents: (frame) => {
      qc.setQueryData<Snapshot<EventPage>>(traceKeys.taskEvents(id), (old) => (old ? mergeEvents(old, frame) : old));
      if (frame.some((e) => e.type.startsWith('task.') || e.type.startsWith('bid.') || e.type === 'auction.closed')) {
        void qc.invalidateQueries({ queryKey: traceKeys.task(id) });
      }
    },
    onGap: () => void qc.invalidateQueries({ queryKey: traceKeys.taskEvents(id) }),
  });
  useBaseline(sub, events.data);
  return { detail, events };
}

/** The agent page's data, live from the `agent:<id>` channel (any event refetches the agent's lists). */
export function useAgentActivity(id: string) {
  const qc = useQueryClient();
  const agent = useQuery(agentQuery(id));
  const tasks = useQuery(agentTasksQuery(id));
  const bids = useQuery(agentBidsQuery(id));
  const auctions = useQuery(closedAuctionsQuery());
  const messages = useQuery(agentMessagesQuery(id));
  const sub = useChannel(`agent:${id}`, {
    onEvents: () => {
      for (const key of [traceKeys.agent(id), traceKeys.agentTasks(id), traceKeys.agentBids(id), traceKeys.closedAuctions(), traceKeys.agentMessages(id)]) {
        void qc.invalidateQueries({ queryKey: key });
      }
    },
    onGap: () => void qc.invalidateQueries({ queryKey: traceKeys.agentBids(id) }),
  });
  useBaseline(sub, bids.data);
  return { agent, tasks, bids, auctions, messages };
}

/** Post a task (repost of a failed one, or assigned directly with agentId). */
export function usePostTask() {
  const qc = useQueryClient();
  return useMutation({ mutationFn: (body: CreateTaskRequest) => postTask(body), onSettled: () => qc.invalidateQueries({ queryKey: ['swarm'] }) });
}

/** Assigns the task to an agent (while bidding, or reassigns before it started); refetches the task after. */
export function useAssign(id: string) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: (agentId: string) => postAssign(id, agentId), onSettled: () => qc.invalidateQueries({ queryKey: traceKeys.task(id) }) });
}

export function useCancel(id: string) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: () => postCancel(id), onSettled: () => qc.invalidateQueries({ queryKey: traceKeys.task(id) }) });
}
