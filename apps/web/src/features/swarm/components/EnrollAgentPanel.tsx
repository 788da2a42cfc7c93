import '../swarm.css';
import { useState, type FormEvent } from 'react';
import { ErrorText } from '../../../components/ui/ErrorText';
import { SecretBox } from '../../../components/ui/SecretBox';
import { useEnrollAgent } from '../hooks/useSwarm';

/** Quotes a value for a POSIX shell command line. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The ready-to-copy CLI command that runs an enrolled agent against this server (`serverUrl` = the dashboard's own
 * origin: the API serves the dashboard, so it is the URL the agent must reach).
 */
export function enrollCommand(serverUrl: string, key: string, name: string, capabilities: readonly string[]): string {
  return [
    'pnpm agent',
    `--url ${shellQuote(serverUrl)}`,
    `--key ${shellQuote(key)}`,
    `--name ${shellQuote(name)}`,
    capabilities.length ? `--capabilities ${shellQuote(capabilities.join(','))}` : '',
    '--bid 20',
    `--exec "..."`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** Enroll an external agent: creates the agent and its agent-bound key (shown once) plus the CLI command. */
export function EnrollAgentPanel() {
  const [name, setName] = useState('');
  const [capabilities, setCapabilities] = useState('');
  const [result, setResult] = useState<{ key: string; command: string } | null>(null);
  const enroll = useEnrollAgent();

  const handleSubmit = (e: FormEvent) => {
    e.preventDefault();
    const caps = capabilities
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    enroll.mutate(
      { name: name.trim(), ...(caps.length ? { capabilities: caps } : {}) },
      {
        onSuccess: (res) => {
          const command = enrollCommand(window.location.origin, res.key, res.agent.name, caps);
          setResult({ key: res.key, command });
          setName('');
          setCapabilities('');
        },
      },
    );
  };

  return (
    <section className="panel" data-testid="enroll-panel">
      <h2>Enroll an external agent</h2>
      <form className="inline-form" onSubmit={handleSubmit}>
        <input placeholder="agent name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={64} autoCapitalize="none" spellCheck={false} data-testid="enroll-name" />
        <input placeholder="capabilities, comma-separated" value={capabilities} onChange={(e) => setCapabilities(e.target.value)} data-testid="enroll-capabilities" />
        <button type="submit" className="btn btn--primary" disabled={enroll.isPending} data-testid="enroll-submit">
          Enroll
        </button>
      </form>
      <ErrorText error={enroll.error} />
      {result && (
        <SecretBox
          title="Agent key"
          secret={result.key}
          command={result.command}
          onDismiss={() => setResult(null)}
          testId="enroll-secret"
        />
      )}
      <p className="muted small">
        Run the command on the agent's machine (from a checkout of this repository); replace <code>--exec "..."</code> with the command that does the work. If
        the agent reaches this server under another address, change <code>--url</code>.
      </p>
    </section>
  );
}
