import '../auth.css';
import { useState, type FormEvent } from 'react';
import type { Role } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { SecretBox } from '../../../components/ui/SecretBox';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatDateTime } from '../../../lib/time';
import { useApiKeys, useCreateApiKey, useRevokeApiKey } from '../hooks/useAuth';

const RANK: Record<Role, number> = { viewer: 0, agent: 0, operator: 1, admin: 2 };

type ApiKeysPanelProps = { role: Role };

/**
 * API keys: create (the key is shown once), list with prefix/role/last use, revoke. Viewers are read-only: they see
 * their keys but cannot create or revoke (an admin creates a viewer's key).
 */
export function ApiKeysPanel({ role }: ApiKeysPanelProps) {
  const keys = useApiKeys();
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();
  const [label, setLabel] = useState('');
  const [keyRole, setKeyRole] = useState<Role>('viewer');
  const [secret, setSecret] = useState<string | null>(null);
  const roles = (['viewer', 'operator', 'admin'] as Role[]).filter((r) => RANK[r] <= RANK[role]);
  const canWrite = role === 'admin' || role === 'operator';

  const handleCreate = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { label: label.trim(), role: keyRole },
      {
        onSuccess: (res) => {
          setSecret(res.key);
          setLabel('');
        },
      },
    );
  };

  return (
    <section className="panel" data-testid="api-keys-panel">
      <h2>API keys</h2>
      {!canWrite && <p className="muted">Viewers are read-only: ask an admin for a key.</p>}
      {canWrite && (
        <form className="inline-form" onSubmit={handleCreate}>
          <input placeholder="label, e.g. ci script" value={label} onChange={(e) => setLabel(e.target.value)} required maxLength={100} data-testid="apikey-label" />
          <select value={keyRole} onChange={(e) => setKeyRole(e.target.value as Role)} data-testid="apikey-role">
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button className="btn btn--primary" type="submit" disabled={create.isPending} data-testid="apikey-create">
            Create key
          </button>
        </form>
      )}
      {secret && <SecretBox title="New API key" secret={secret} onDismiss={() => setSecret(null)} testId="apikey-secret" />}
      <ErrorText error={create.error ?? revoke.error ?? keys.error} />
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>label</th>
              <th>prefix</th>
              <th>role</th>
              <th>agent</th>
              <th>created</th>
              <th>last used</th>
              <th>status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(keys.data ?? []).map((k) => (
              <tr key={k.id} data-testid={`apikey-${k.id}`}>
                <td>{k.label}</td>
                <td className="mono">{k.prefix}…</td>
                <td>{k.role}</td>
                <td className="mono">{k.agentId ?? ''}</td>
                <td className="mono nowrap">{formatDateTime(k.createdAt)}</td>
                <td className="mono nowrap">{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : 'never'}</td>
                <td>
                  <StatusBadge status={k.revokedAt ? 'revoked' : 'active'} />
                </td>
                <td>
                  {canWrite && !k.revokedAt && (
                    <button
                      type="button"
                      className="btn btn--small btn--danger"
                      disabled={revoke.isPending}
                      onClick={() => {
                        if (window.confirm(`Revoke key "${k.label}"? Clients using it stop working at once.`)) revoke.mutate(k.id);
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {keys.data?.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  No keys yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
