import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreateTaskRequest } from '@app/contracts';
import { cancelTask, createTask, enrollAgent, personaAction, type PersonaAction } from '../api/swarm.api';
import { agentsQuery, personasQuery, swarmKeys, taskQuery, tasksQuery } from '../api/swarm.queries';

export const useAgents = () => useQuery(agentsQuery());
export const usePersonas = () => useQuery(personasQuery());
export const useTasks = () => useQuery(tasksQuery());
export const useTaskDetail = (id: string) => useQuery(taskQuery(id));

/** Spawn / stop / restart a persona (operator). */
export function usePersonaAction() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ personaId, action }: { personaId: string; action: PersonaAction }) => personaAction(personaId, action),
    onSettled: () => qc.invalidateQueries({ queryKey: swarmKeys.all }),
  });
}

/** Post a task (auction, or direct assignment with agentId). */
export function useCreateTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateTaskRequest) => createTask(body),
    onSuccess: () => qc.invalidateQueries({ queryKey: swarmKeys.tasks() }),
  });
}

export function useCancelTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => cancelTask(id, 'cancelled by operator'),
    onSettled: () => qc.invalidateQueries({ queryKey: swarmKeys.tasks() }),
  });
}

export function useEnrollAgent() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: enrollAgent,
    onSuccess: () => qc.invalidateQueries({ queryKey: swarmKeys.agents() }),
  });
}
