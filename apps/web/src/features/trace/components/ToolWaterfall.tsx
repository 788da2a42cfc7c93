import '../trace.css';
import type { ToolSpan } from '../trace';

type ToolWaterfallProps = { spans: readonly ToolSpan[]; totalMs: number };

/** Tool calls as bars on the task's clock: offset from creation and duration, proportional to the task's span. */
export function ToolWaterfall({ spans, totalMs }: ToolWaterfallProps) {
  if (spans.length === 0) return <p className="muted small">No tool calls.</p>;
  const span = Math.max(totalMs, ...spans.map((s) => s.startOffsetMs + (s.durationMs ?? 0)), 1);
  return (
    <ul className="trace-waterfall" data-testid="task-waterfall">
      {spans.map((s, i) => {
        const left = (Math.max(0, s.startOffsetMs) / span) * 100;
        const width = Math.max(0.5, ((s.durationMs ?? span - s.startOffsetMs) / span) * 100);
        return (
          <li key={i} className="trace-waterfall__row" data-testid={`task-tool-${i}`} data-status={s.status}>
            <span className="trace-waterfall__name mono small">{s.name}</span>
            <span className="trace-waterfall__track">
              <span className={`trace-waterfall__bar trace-waterfall__bar--${s.status}`} style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }} />
            </span>
            <span className="trace-waterfall__dur mono small">
              +{(s.startOffsetMs / 1000).toFixed(2)}s · {s.durationMs === null ? 'running' : `${Math.round(s.durationMs)} ms`}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
