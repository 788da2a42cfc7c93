/** Roles (BRIEF section 6). `agent` is an API key bound to one agent. */
/**
 * The one password rule (issue 12): at least this many characters, for users created in the dashboard or the API and
 * for ADMIN_PASSWORD. Used by the API's validation, the env schema and the user form; `.env.example` states it.
 */
export const PASSWORD_MIN_LENGTH = 10;
/** Longest accepted password (characters). */
export const PASSWORD_MAX_LENGTH = 256;

export const ROLES = ['admin', 'operator', 'viewer', 'agent'] as const;
export type Role = (typeof ROLES)[number];
export type UserRole = Exclude<Role, 'agent'>;

export interface LoginRequest {
  username: string;
  password: string;
}

/** The caller as seen by the API (`GET /api/auth/me`). */
export interface Principal {
  /** `l402`: an anonymous caller holding a paid L402 token, admitted to one priced route for one call (ADR 0011). */
  kind: 'user' | 'api_key' | 'l402';
  userId: string | null;
  username: string | null;
  role: Role;
  agentId: string | null;
  apiKeyId: string | null;
}

export interface MeResponse {
  principal: Principal;
  /** Value to send in the `x-csrf-token` header on state-changing requests made with the session cookie. */
  csrfToken: string;
}

export interface UserDto {
  id: string;
  username: string;
  role: UserRole;
  disabled: boolean;
  createdAt: string;
}

export interface CreateUserRequest {
  username: string;
  password: string;
  role: UserRole;
}

export interface UpdateUserRequest {
  role?: UserRole;
  password?: string;
  disabled?: boolean;
}

export interface ApiKeyDto {
  id: string;
  label: string;
  role: Role;
  /** First characters of the key, for recognition; never the key. */
  prefix: string;
  agentId: string | null;
  userId: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface CreateApiKeyRequest {
  label: string;
  role: Role;
  /** For `role: agent`: the agent the key is bound to (an existing agent id) or a new external agent's name. */
  agentId?: string;
  agentName?: string;
  capabilities?: string[];
  /** Admins only: the user a user-bound key is bound to (default: the caller). */
  userId?: string;
}

/** Returned once at creation: `key` is never shown again. */
export interface CreateApiKeyResponse {
  apiKey: ApiKeyDto;
  key: string;
}
