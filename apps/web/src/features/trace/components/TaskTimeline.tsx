import '../trace.css';
import type { EventEnvelope } from '@app/contracts';
import { formatClock } from '../../../lib/time';
import { stepLabel } from '../trace';

type TaskTimelineProps = { events: readonly EventEnvelope[]; createdAt: string };

/** Every event of the task in seq order, with its offset from the task's creation; data as text (never HTML). */
export function TaskTimeline({ events, createdAt }: TaskTimelineProps) {
  const t0 = Date.parse(createdAt);
  if (events.length === 0) return <p className="muted small">No events yet.</p>;
  return (
    <ol className="trace-timeline" data-testid="task-timeline">
      {events.map((e) => (
        <li key={e.seq} className={`trace-timeline__item trace-timeline__item--${e.type.split('.')[0]}`} data-type={e.type} data-seq={e.seq}>
          <span className="trace-timeline__time mono small" title={e.createdAt}>
            {formatClock(e.createdAt)} <span className="muted">+{((Date.parse(e.createdAt) - t0) / 1000).toFixed(2)}s</span>
          </span>
          <span className="trace-timeline__type mono small">{e.type}</span>
          <span className="trace-timeline__label">{stepLabel(e)}</span>
          <details className="trace-timeline__data">
            <summary className="muted small">data · seq {e.seq} · {e.source}</summary>
            <pre className="json">{JSON.stringify(e.data, null, 2)}</pre>
          </details>
        </li>
      ))}
    </ol>
  );
}
