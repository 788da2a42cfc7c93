import { queryOptions } from '@tanstack/react-query';
import { stampSnapshot } from '../../../lib/realtime-react';
import { fetchAgents, fetchPersonas, fetchTask, fetchTasks } from './swarm.api';

export const swarmKeys = {
  all: ['swarm'] as const,
  agents: () => ['swarm', 'agents'] as const,
  personas: () => ['swarm', 'personas'] as const,
  tasks: () => ['swarm', 'tasks'] as const,
  task: (id: string) => ['swarm', 'task', id] as const,
};

/** Agents snapshot (its headSeq is the swarm channel baseline). */
export const agentsQuery = () => queryOptions({ queryKey: swarmKeys.agents(), queryFn: async () => stampSnapshot(await fetchAgents()) });
export const personasQuery = () => queryOptions({ queryKey: swarmKeys.personas(), queryFn: fetchPersonas });
export const tasksQuery = () => queryOptions({ queryKey: swarmKeys.tasks(), queryFn: () => fetchTasks(100) });
export const taskQuery = (id: string) => queryOptions({ queryKey: swarmKeys.task(id), queryFn: () => fetchTask(id) });
