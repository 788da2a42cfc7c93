import { useState } from 'react';

type SecretBoxProps = {
  title: string;
  secret: string;
  /** Extra copyable text (e.g. the CLI command line). */
  command?: string;
  onDismiss: () => void;
  testId?: string;
};

/** Shows a secret once, with a warning and copy buttons. */
export function SecretBox({ title, secret, command, onDismiss, testId }: SecretBoxProps) {
  const [copied, setCopied] = useState<string | null>(null);
  const handleCopy = async (value: string, what: string) => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(what);
    } catch {
      setCopied(null);
    }
  };
  return (
    <div className="secret" role="alert" data-testid={testId}>
      <strong>{title}</strong>
      <p className="warning">Copy it now: it is shown only once and cannot be recovered.</p>
      <div className="secret__row">
        <input className="mono" readOnly value={secret} onFocus={(e) => e.target.select()} data-testid={testId ? `${testId}-value` : undefined} />
        <button type="button" className="btn" onClick={() => handleCopy(secret, 'key')}>
          {copied === 'key' ? 'Copied' : 'Copy'}
        </button>
      </div>
      {command && (
        <div className="secret__row">
          <textarea className="mono" readOnly rows={3} value={command} onFocus={(e) => e.target.select()} data-testid={testId ? `${testId}-command` : undefined} />
          <button type="button" className="btn" onClick={() => handleCopy(command, 'command')}>
            {copied === 'command' ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
      <button type="button" className="btn btn--ghost" onClick={onDismiss}>
        I stored it, hide
      </button>
    </div>
  );
}
