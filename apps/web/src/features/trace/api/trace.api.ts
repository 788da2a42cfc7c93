import type { AgentDto, AgentMessageDto, CreateTaskRequest, EventPage, ListResponse, TaskDetailDto, TaskDto } from '@app/contracts';
import { api } from '../../../lib/api-client';

/** Every event of one task, oldest first (GET /api/events?taskId=&after=0, up to 1000). */
export const fetchTaskEvents = (taskId: string) => api.get<EventPage>('/api/events', { taskId, after: 0, limit: 1000 });
export const fetchTaskDetail = (id: string) => api.get<TaskDetailDto>(`/api/tasks/${encodeURIComponent(id)}`);
export const fetchAgent = (id: string) => api.get<AgentDto>(`/api/agents/${encodeURIComponent(id)}`);
export const fetchAgentList = () => api.get<ListResponse<AgentDto>>('/api/agents');
/** Tasks assigned to the agent, newest first. */
export const fetchAgentTasks = (agentId: string) => api.get<ListResponse<TaskDto>>('/api/tasks', { agentId, limit: 200 });
/** The agent's bids (accepted and refused), newest first. */
export const fetchAgentBids = (agentId: string) => api.get<EventPage>('/api/events', { agentId, type: ['bid.submitted', 'bid.rejected'], limit: 1000 });
/** Closed auctions (winner in data), newest first: the outcomes of the agent's bids. */
export const fetchClosedAuctions = () => api.get<EventPage>('/api/events', { type: ['auction.closed'], limit: 1000 });
export const fetchAgentMessages = (agentId: string) => api.get<ListResponse<AgentMessageDto>>('/api/messages', { agentId, limit: 100 });
export const postTask = (body: CreateTaskRequest) => api.post<TaskDto>('/api/tasks', body);
export const postCancel = (id: string) => api.post<TaskDto>(`/api/tasks/${encodeURIComponent(id)}/cancel`, { reason: 'cancelled by operator' });
/** Operator assignment: mid-auction (closes it now) or reassignment before the task started. */
export const postAssign = (id: string, agentId: string) => api.post<TaskDto>(`/api/tasks/${encodeURIComponent(id)}/assign`, { agentId });
