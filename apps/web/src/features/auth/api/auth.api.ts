import type { ApiKeyDto, CreateApiKeyRequest, CreateApiKeyResponse, CreateUserRequest, LoginRequest, MeResponse, UpdateUserRequest, UserDto } from '@app/contracts';
import { api, ApiError, setCsrfToken } from '../../../lib/api-client';

/** GET /api/auth/me; null when logged out (401). Stores the CSRF token. */
export async function fetchMe(): Promise<MeResponse | null> {
  try {
    const me = await api.get<MeResponse>('/api/auth/me');
    setCsrfToken(me.csrfToken);
    return me;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setCsrfToken('');
      return null;
    }
    throw err;
  }
}

/** POST /api/auth/login: sets the session cookie; stores the CSRF token. */
export async function login(body: LoginRequest): Promise<MeResponse> {
  const me = await api.post<MeResponse>('/api/auth/login', body);
  setCsrfToken(me.csrfToken);
  return me;
}

export async function logout(): Promise<void> {
  try {
    await api.post<void>('/api/auth/logout');
  } finally {
    setCsrfToken('');
  }
}

export const fetchUsers = () => api.get<UserDto[]>('/api/users');
export const createUser = (body: CreateUserRequest) => api.post<UserDto>('/api/users', body);
export const updateUser = (id: string, body: UpdateUserRequest) => api.patch<UserDto>(`/api/users/${encodeURIComponent(id)}`, body);
export const fetchApiKeys = () => api.get<ApiKeyDto[]>('/api/api-keys');
export const createApiKey = (body: CreateApiKeyRequest) => api.post<CreateApiKeyResponse>('/api/api-keys', body);
export const revokeApiKey = (id: string) => api.delete<ApiKeyDto>(`/api/api-keys/${encodeURIComponent(id)}`);
