import { AppError } from '../common/app-error';

/** Stable error codes of the memory module. */
export type MemoryErrorCode =
  | 'memory/invalid_content'
  | 'memory/content_too_large'
  | 'memory/invalid_filter'
  | 'memory/invalid_limit'
  | 'memory/invalid_max_tokens'
  | 'memory/invalid_fact'
  | 'memory/invalid_date'
  | 'memory/dimension_mismatch'
  | 'memory/entry_not_found'
  | 'memory/embedder_unavailable'
  | 'memory/fact_conflict';

/** Builds an AppError with a memory code. */
export function memoryError(code: MemoryErrorCode, message: string, status = 400, details?: unknown): AppError {
  return new AppError(code, message, status, details);
}
