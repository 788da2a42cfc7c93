import '../trace.css';
import { formatClock } from '../../../lib/time';
import type { LlmCall } from '../trace';

type LlmCallsProps = { calls: readonly LlmCall[] };

const ms = (v: number | null) => (v === null ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);

/** Each LLM call: provider, model, attempts and failovers, tokens, latency, cost; prompt and response collapsible, in full. */
export function LlmCalls({ calls }: LlmCallsProps) {
  if (calls.length === 0) return <p className="muted small">No LLM calls (the agent did not report any).</p>;
  return (
    <ol className="trace-calls" data-testid="task-llm-calls">
      {calls.map((c, i) => (
        <li key={i} className={`trace-call${c.ok ? '' : ' trace-call--bad'}`} data-testid={`task-llm-call-${i}`}>
          <div className="trace-call__head">
            <strong>{c.provider ?? 'no provider'}</strong>
            <span className="mono small">{c.model ?? ''}</span>
            <span className={`badge badge--${c.ok ? 'completed' : 'failed'}`}>{c.ok ? 'ok' : 'failed'}</span>
            <span className="muted small">
              {formatClock(c.at)} · latency {ms(c.latencyMs)} · tokens {c.tokensIn ?? '—'} in / {c.tokensOut ?? '—'} out · cost {c.costUsd === null ? 'n/a (local)' : `$${c.costUsd.toFixed(4)}`}
            </span>
          </div>
          <ol className="trace-attempts small" data-testid={`task-llm-attempts-${i}`}>
            {c.attempts.map((a, j) => (
              <li key={j} className={`trace-attempt trace-attempt--${a.outcome}`}>
                {j > 0 && c.attempts[j - 1].provider !== a.provider ? '↪ failover to ' : ''}
                {a.provider}: {a.outcome}
                {a.reason ? ` (${a.reason})` : ''} {a.latencyMs ? ms(a.latencyMs) : ''}
              </li>
            ))}
          </ol>
          {c.error && <p className="error small">{c.error}</p>}
          <details data-testid={`task-llm-prompt-${i}`}>
            <summary className="small">Prompt{c.prompt ? ` (${c.prompt.length} messages)` : ' (not reported)'}</summary>
            {c.prompt?.map((m, k) => (
              <div key={k} className="trace-msg">
                <span className="muted small mono">{m.role}</span>
                <pre className="trace-pre">{m.content}</pre>
              </div>
            ))}
          </details>
          <details open={calls.length === 1} data-testid={`task-llm-response-${i}`}>
            <summary className="small">Response</summary>
            <pre className="trace-pre">{c.response ?? '(none)'}</pre>
          </details>
        </li>
      ))}
    </ol>
  );
}
