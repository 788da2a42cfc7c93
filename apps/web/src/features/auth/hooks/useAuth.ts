import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreateApiKeyRequest, CreateUserRequest, LoginRequest, Principal, Role, UpdateUserRequest } from '@app/contracts';
import { createApiKey, createUser, login, logout, revokeApiKey, updateUser } from '../api/auth.api';
import { apiKeysQuery, authKeys, meQuery, usersQuery } from '../api/auth.queries';

/** The session: `data` is null when logged out. */
export const useMe = () => useQuery(meQuery());

/** The signed-in principal (only inside the signed-in shell). */
export function usePrincipal(): Principal {
  const { data } = useMe();
  if (!data) throw new Error('usePrincipal used while logged out');
  return data.principal;
}

/** Admin and operator may act (spawn, post, answer, cancel); viewers only read. */
export const canOperate = (role: Role) => role === 'admin' || role === 'operator';

export function useCanOperate(): boolean {
  const { data } = useMe();
  return Boolean(data && canOperate(data.principal.role));
}

export function useLogin() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: LoginRequest) => login(body),
    onSuccess: (me) => qc.setQueryData(authKeys.me(), me),
  });
}

export function useLogout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: logout,
    onSettled: () => {
      qc.clear();
      qc.setQueryData(authKeys.me(), null);
    },
  });
}

export const useUsers = (enabled: boolean) => useQuery({ ...usersQuery(), enabled });

export function useCreateUser() {
  const qc = useQueryClient();
  return useMutation({ mutationFn: (b: CreateUserRequest) => createUser(b), onSuccess: () => qc.invalidateQueries({ queryKey: authKeys.users() }) });
}

export function useUpdateUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: UpdateUserRequest }) => updateUser(id, patch),
    onSuccess: () => qc.invalidateQueries({ queryKey: authKeys.users() }),
  });
}

export const useApiKeys = () => useQuery(apiKeysQuery());

export function useCreateApiKey() {
  const qc = useQueryClient();
  return useMutation({ mutationFn: (b: CreateApiKeyRequest) => createApiKey(b), onSuccess: () => qc.invalidateQueries({ queryKey: authKeys.apiKeys() }) });
}

export function useRevokeApiKey() {
  const qc = useQueryClient();
  return useMutation({ mutationFn: (id: string) => revokeApiKey(id), onSuccess: () => qc.invalidateQueries({ queryKey: authKeys.apiKeys() }) });
}
