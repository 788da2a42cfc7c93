import { useParams, Link } from 'react-router-dom';
import { ErrorText } from '../components/ui/ErrorText';
import { StatusBadge } from '../components/ui/StatusBadge';
import { useCanOperate } from '../features/auth/hooks/useAuth';
import { useAgents } from '../features/swarm/hooks/useSwarm';
import { AuctionView } from '../features/trace/components/AuctionView';
import { CopyButton } from '../components/ui/CopyButton';
import { LlmCalls } from '../features/trace/components/LlmCalls';
import { TaskActions } from '../features/trace/components/TaskActions';
import { TaskTimeline } from '../features/trace/components/TaskTimeline';
import { ToolWaterfall } from '../features/trace/components/ToolWaterfall';
import { useTaskTrace } from '../features/trace/hooks/useTrace';
import { buildTrace, traceExport } from '../features/trace/trace';
import { formatDateTime, formatDuration } from '../lib/time';
import { useNow } from '../lib/use-now';

/** Downloads `text` as a file (same origin, no server round trip). */
function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Task detail and trace: timeline (live), auction, LLM calls, tool waterfall, full result, actions, JSON export. */
export function TaskPage() {
  const { id = '' } = useParams();
  const { detail, events } = useTaskTrace(id);
  const agents = useAgents();
  const canOperate = useCanOperate();
  const now = useNow();
  if (detail.error) return <ErrorText error={detail.error} testId="task-error" />;
  if (!detail.data) return <p className="muted">Loading…</p>;
  const task = detail.data;
  const trace = buildTrace(task, events.data?.items ?? [], now);
  const outcome = task.result ?? task.failureReason;
  return (
    <div className="page-stack" data-testid="task-page" data-status={task.status}>
      <section className="panel">
        <div className="trace-head">
          <StatusBadge status={task.status} testId="task-page-status" />
          <h1 data-testid="task-page-description">{task.description}</h1>
        </div>
        <div className="trace-facts">
          <span>
            id <strong className="mono">{task.id}</strong> <CopyButton text={task.id} label="Copy id" />
          </span>
          <span>
            posted <strong>{formatDateTime(task.createdAt)}</strong>
            {task.createdBy ? ` by ${task.createdBy}` : ''}
          </span>
          <span data-testid="task-elapsed">
            elapsed <strong>{formatDuration(trace.elapsedMs)}</strong>
          </span>
          {trace.currentStep && (
            <span data-testid="task-current-step">
              now: <strong>{trace.currentStep}</strong>
            </span>
          )}
          {task.assignedAgentId && (
            <span>
              agent{' '}
              <Link to={`/agents/${encodeURIComponent(task.assignedAgentId)}`} data-testid="task-agent-link">
                {task.assignedAgentId}
              </Link>
              {task.winningBidSats !== null ? ` at ${task.winningBidSats} sats` : ''}
            </span>
          )}
          <span className="muted small">payout: shown here once the ledger records task payouts</span>
        </div>
        <div className="btn-row">
          <button type="button" className="btn btn--small" onClick={() => download(`trace-${task.id}.json`, traceExport(task, trace))} data-testid="task-export">
            Export trace (JSON)
          </button>
          {canOperate && <TaskActions task={task} agents={agents.data?.items ?? []} />}
        </div>
      </section>
      <section className="panel">
        <div className="panel__title-row">
          <h2>{task.status === 'completed' ? 'Result' : task.status === 'failed' || task.status === 'cancelled' ? 'Failure' : 'Result (pending)'}</h2>
          {outcome && <CopyButton text={outcome} testId="task-result-copy" />}
        </div>
        <pre className={`trace-pre trace-result${task.status === 'completed' ? '' : ' trace-result--bad'}`} data-testid="task-result">
          {outcome ?? '—'}
        </pre>
      </section>
      <div className="trace-grid">
        <section className="panel">
          <h2>
            Timeline <span className="muted small">task:{task.id} · live</span>
          </h2>
          <ErrorText error={events.error} />
          <TaskTimeline events={trace.timeline} createdAt={task.createdAt} />
        </section>
        <div>
          <section className="panel">
            <h2>Auction</h2>
            <AuctionView auction={trace.auction} />
          </section>
          <section className="panel">
            <h2>LLM calls</h2>
            <LlmCalls calls={trace.llmCalls} />
          </section>
          <section className="panel">
            <h2>Tools</h2>
            <ToolWaterfall spans={trace.tools} totalMs={trace.elapsedMs} />
          </section>
        </div>
      </div>
    </div>
  );
}
