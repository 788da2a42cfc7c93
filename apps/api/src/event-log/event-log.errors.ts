import { AppError } from '../common/app-error';

/** Stable error codes of the event-log module. */
export type EventLogErrorCode =
  | 'event-log/invalid_event'
  | 'event-log/nested_write'
  | 'event-log/unit_closed'
  | 'event-log/closed'
  | 'event-log/not_found'
  | 'event-log/bad_window'
  | 'event-log/bad_range'
  | 'event-log/consumer_conflict'
  | 'event-log/ambiguous_task_prefix';

/** Builds an AppError with an event-log code. */
export function eventLogError(code: EventLogErrorCode, message: string, status: number, details?: unknown): AppError {
  return new AppError(code, message, status, details);
}
