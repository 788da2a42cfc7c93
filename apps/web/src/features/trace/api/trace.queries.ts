import { queryOptions } from '@tanstack/react-query';
import { stampSnapshot } from '../../../lib/realtime-react';
import { fetchAgent, fetchAgentBids, fetchAgentMessages, fetchAgentTasks, fetchClosedAuctions, fetchTaskDetail, fetchTaskEvents } from './trace.api';

export const traceKeys = {
  all: ['trace'] as const,
  task: (id: string) => ['trace', 'task', id] as const,
  taskEvents: (id: string) => ['trace', 'task', id, 'events'] as const,
  agent: (id: string) => ['trace', 'agent', id] as const,
  agentTasks: (id: string) => ['trace', 'agent', id, 'tasks'] as const,
  agentBids: (id: string) => ['trace', 'agent', id, 'bids'] as const,
  agentMessages: (id: string) => ['trace', 'agent', id, 'messages'] as const,
  closedAuctions: () => ['trace', 'auctions', 'closed'] as const,
};

export const taskDetailQuery = (id: string) => queryOptions({ queryKey: traceKeys.task(id), queryFn: () => fetchTaskDetail(id) });
/** The task's events snapshot; its headSeq is the `task:<id>` channel baseline. */
export const taskEventsQuery = (id: string) => queryOptions({ queryKey: traceKeys.taskEvents(id), queryFn: async () => stampSnapshot(await fetchTaskEvents(id)) });
export const agentQuery = (id: string) => queryOptions({ queryKey: traceKeys.agent(id), queryFn: () => fetchAgent(id) });
export const agentTasksQuery = (id: string) => queryOptions({ queryKey: traceKeys.agentTasks(id), queryFn: () => fetchAgentTasks(id) });
/** The agent's bid events; its headSeq is the `agent:<id>` channel baseline. */
export const agentBidsQuery = (id: string) => queryOptions({ queryKey: traceKeys.agentBids(id), queryFn: async () => stampSnapshot(await fetchAgentBids(id)) });
export const agentMessagesQuery = (id: string) => queryOptions({ queryKey: traceKeys.agentMessages(id), queryFn: () => fetchAgentMessages(id) });
export const closedAuctionsQuery = () => queryOptions({ queryKey: traceKeys.closedAuctions(), queryFn: () => fetchClosedAuctions() });
