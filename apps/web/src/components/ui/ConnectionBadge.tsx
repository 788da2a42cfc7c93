import type { ConnectionState } from '../../lib/realtime';

const LABELS: Record<ConnectionState, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };

type ConnectionBadgeProps = { state: ConnectionState };

/** "Connecting…" → "Live" → "Reconnecting…". */
export function ConnectionBadge({ state }: ConnectionBadgeProps) {
  return (
    <span className={`conn conn--${state}`} data-testid="connection-status" data-state={state} role="status">
      <span className="conn__dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
