import { useNow } from '../../lib/use-now';
import { formatDuration } from '../../lib/time';

type CountdownProps = { until: string; testId?: string };

/** Live countdown to an ISO time ("closes in 12s", then "closing…"). */
export function Countdown({ until, testId }: CountdownProps) {
  const now = useNow();
  const left = Date.parse(until) - now;
  if (Number.isNaN(left)) return null;
  return (
    <span className={left <= 5000 ? 'countdown countdown--soon' : 'countdown'} data-testid={testId}>
      {left > 0 ? `closes in ${formatDuration(left)}` : 'closing…'}
    </span>
  );
}
