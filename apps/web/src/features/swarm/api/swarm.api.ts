import type {
  AgentDto,
  CreateTaskRequest,
  CreateTaskResponse,
  EnrollAgentRequest,
  EnrollAgentResponse,
  ListResponse,
  PersonaDto,
  TaskDetailDto,
  TaskDto,
} from '@app/contracts';
import { api } from '../../../lib/api-client';

export type PersonaAction = 'spawn' | 'stop' | 'restart';

export const fetchAgents = () => api.get<ListResponse<AgentDto>>('/api/agents');
export const fetchPersonas = () => api.get<PersonaDto[]>('/api/personas');
/** Newest first. */
export const fetchTasks = (limit = 100) => api.get<ListResponse<TaskDto>>('/api/tasks', { limit });
export const fetchTask = (id: string) => api.get<TaskDetailDto>(`/api/tasks/${encodeURIComponent(id)}`);
/** Posts a task; the answer carries `warning` when no agent able to do it is available now. */
export const createTask = (body: CreateTaskRequest) => api.post<CreateTaskResponse>('/api/tasks', body);
export const cancelTask = (id: string, reason?: string) => api.post<TaskDto>(`/api/tasks/${encodeURIComponent(id)}/cancel`, reason ? { reason } : {});
export const personaAction = (id: string, action: PersonaAction) => api.post<AgentDto>(`/api/personas/${encodeURIComponent(id)}/${action}`);
/** Enrolls an external agent; the response carries its API key, shown once. */
export const enrollAgent = (body: EnrollAgentRequest) => api.post<EnrollAgentResponse>('/api/agents', body);
export const removeAgent = (id: string) => api.delete<AgentDto>(`/api/agents/${encodeURIComponent(id)}`);
