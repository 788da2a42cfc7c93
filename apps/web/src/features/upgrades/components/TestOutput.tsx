import { useEffect, useRef } from 'react';
import type { UpgradeDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { useUpgradeLogs } from '../hooks/useUpgrades';

/** Live test output of the latest attempt (plain text, follows the end while it streams) and the health output. */
export function TestOutput({ upgrade }: { upgrade: UpgradeDto }) {
  const logs = useUpgradeLogs(upgrade.id);
  const pre = useRef<HTMLPreElement>(null);
  const text = logs.data?.testOutput ?? '';
  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text]);
  const running = upgrade.state === 'testing';
  return (
    <section className="upgrade-output" aria-label="Test output">
      <h3>
        Test output {upgrade.attempt > 0 && <span className="muted small">attempt {upgrade.attempt}</span>}{' '}
        {running && <span className="transient" data-testid="upgrade-running">{upgrade.phase ?? 'testing'}…</span>}
      </h3>
      <ErrorText error={logs.error} />
      <pre ref={pre} className="upgrade-output__text" data-testid="upgrade-output">
        {text || (upgrade.attempt === 0 ? 'Not tested yet.' : running ? 'Waiting for output…' : '(no output)')}
      </pre>
      {logs.data?.testOutputTruncated && <p className="muted small">Output truncated at the configured limit.</p>}
      {logs.data?.healthOutput && (
        <>
          <h3>Health check</h3>
          <pre className="upgrade-output__text" data-testid="upgrade-health-output">{logs.data.healthOutput}</pre>
        </>
      )}
    </section>
  );
}
