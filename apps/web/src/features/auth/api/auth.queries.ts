import { queryOptions } from '@tanstack/react-query';
import { fetchApiKeys, fetchMe, fetchUsers } from './auth.api';

export const authKeys = {
  all: ['auth'] as const,
  me: () => ['auth', 'me'] as const,
  users: () => ['auth', 'users'] as const,
  apiKeys: () => ['auth', 'api-keys'] as const,
};

export const meQuery = () => queryOptions({ queryKey: authKeys.me(), queryFn: fetchMe, staleTime: 5 * 60_000, retry: 1 });
export const usersQuery = () => queryOptions({ queryKey: authKeys.users(), queryFn: fetchUsers });
export const apiKeysQuery = () => queryOptions({ queryKey: authKeys.apiKeys(), queryFn: fetchApiKeys });
