import '../auth.css';
import { useState, type FormEvent } from 'react';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, type UserRole } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatDateTime } from '../../../lib/time';
import { useCreateUser, useUpdateUser, useUsers } from '../hooks/useAuth';

const USER_ROLES: UserRole[] = ['admin', 'operator', 'viewer'];

type UsersPanelProps = { currentUserId: string | null };

/** Admin: list users, create one with a role, change a role, disable/enable. */
export function UsersPanel({ currentUserId }: UsersPanelProps) {
  const users = useUsers(true);
  const create = useCreateUser();
  const update = useUpdateUser();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<UserRole>('operator');

  const handleCreate = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { username: username.trim(), password, role },
      {
        onSuccess: () => {
          setUsername('');
          setPassword('');
        },
      },
    );
  };

  return (
    <section className="panel" data-testid="users-panel">
      <h2>Users</h2>
      <form className="inline-form" onSubmit={handleCreate}>
        <input placeholder="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoCapitalize="none" spellCheck={false} data-testid="user-username" />
        <input
          placeholder={`password (min. ${PASSWORD_MIN_LENGTH})`}
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          minLength={PASSWORD_MIN_LENGTH}
          maxLength={PASSWORD_MAX_LENGTH}
          data-testid="user-password"
        />
        <select value={role} onChange={(e) => setRole(e.target.value as UserRole)} data-testid="user-role">
          {USER_ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <button className="btn btn--primary" type="submit" disabled={create.isPending} data-testid="user-create">
          Create user
        </button>
      </form>
      <ErrorText error={create.error ?? update.error ?? users.error} />
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>username</th>
              <th>role</th>
              <th>status</th>
              <th>created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(users.data ?? []).map((u) => (
              <tr key={u.id} data-testid={`user-${u.username}`}>
                <td>{u.username}</td>
                <td>
                  <select
                    value={u.role}
                    disabled={u.id === currentUserId || update.isPending}
                    onChange={(e) => update.mutate({ id: u.id, patch: { role: e.target.value as UserRole } })}
                    aria-label={`role of ${u.username}`}
                  >
                    {USER_ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <StatusBadge status={u.disabled ? 'disabled' : 'active'} />
                </td>
                <td className="mono nowrap">{formatDateTime(u.createdAt)}</td>
                <td>
                  {u.id !== currentUserId && (
                    <button className="btn btn--small" type="button" disabled={update.isPending} onClick={() => update.mutate({ id: u.id, patch: { disabled: !u.disabled } })}>
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
