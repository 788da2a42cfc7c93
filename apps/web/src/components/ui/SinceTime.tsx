import { useNow } from '../../lib/use-now';
import { formatDuration } from '../../lib/time';

type SinceTimeProps = { since: string; label: string };

/** "spawning… 3s": a transient state with the time spent in it, ticking every second. */
export function SinceTime({ since, label }: SinceTimeProps) {
  const now = useNow();
  const start = Date.parse(since);
  return (
    <span className="transient" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}… {Number.isNaN(start) ? '' : formatDuration(now - start)}
    </span>
  );
}
