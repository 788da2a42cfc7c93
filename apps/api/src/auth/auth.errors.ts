import { AppError } from '../common/app-error';

/** Stable error codes of the auth module (guards, sessions, users, API keys). */
export type AuthErrorCode =
  | 'auth/invalid_credentials'
  | 'auth/invalid_token'
  | 'auth/unauthenticated'
  | 'auth/csrf_invalid'
  | 'auth/forbidden'
  | 'auth/username_taken'
  | 'auth/user_not_found'
  | 'auth/last_admin'
  | 'auth/agent_key_via_agents'
  | 'auth/role_too_high'
  | 'auth/key_not_found';

/** Builds an AppError with an auth code. */
export function authError(code: AuthErrorCode, message: string, status: number, details?: unknown): AppError {
  return new AppError(code, message, status, details);
}
