import { AppError } from '../common/app-error';

/** Stable error codes of the swarm module. */
export type SwarmErrorCode =
  | 'swarm/agent_not_found'
  | 'swarm/agent_name_taken'
  | 'swarm/agent_offline'
  | 'swarm/agent_role_required'
  | 'swarm/not_external_agent'
  | 'swarm/persona_not_found'
  | 'swarm/persona_running'
  | 'swarm/persona_not_running'
  | 'swarm/task_not_found'
  | 'swarm/not_assignee'
  | 'swarm/invalid_transition'
  | 'swarm/auction_closed'
  | 'swarm/duplicate_bid'
  | 'swarm/bid_over_budget'
  | 'swarm/task_not_bidding'
  | 'swarm/message_not_found'
  | 'swarm/not_recipient'
  | 'swarm/question_not_found'
  | 'swarm/question_not_open'
  | 'swarm/invalid_answer'
  | 'swarm/invalid_deadline'
  | 'swarm/invalid_options'
  | 'swarm/not_asker';

/** Builds an AppError with a swarm code. */
export function swarmError(code: SwarmErrorCode, message: string, status: number, details?: unknown): AppError {
  return new AppError(code, message, status, details);
}
