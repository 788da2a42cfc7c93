import '../swarm.css';
import { Link } from 'react-router-dom';
import { TERMINAL_TASK_STATUSES, type TaskDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatClock } from '../../../lib/time';
import { useAgents, useCancelTask, useTasks } from '../hooks/useSwarm';

type TasksPanelProps = { canOperate: boolean };

function outcome(t: TaskDto): string {
  if (t.status === 'completed') return t.result ?? '';
  if (t.status === 'failed' || t.status === 'cancelled') return t.failureReason ?? '';
  return '';
}

/** Recent tasks with status, assignee, winning bid and result or failure reason. */
export function TasksPanel({ canOperate }: TasksPanelProps) {
  const tasks = useTasks();
  const agents = useAgents();
  const cancel = useCancelTask();
  const names = new Map((agents.data?.items ?? []).map((a) => [a.id, a.name]));
  return (
    <section className="panel" data-testid="tasks-panel">
      <h2>Tasks</h2>
      {tasks.isPending && <p className="muted">Loading…</p>}
      <ErrorText error={tasks.error ?? cancel.error} />
      {tasks.data?.items.length === 0 && <p className="muted">No tasks yet.</p>}
      <ul className="tasks">
        {(tasks.data?.items ?? []).map((t) => {
          const text = outcome(t);
          return (
            <li key={t.id} className="task" data-testid={`task-${t.id}`} data-status={t.status}>
              <div className="task__head">
                <StatusBadge status={t.status} testId={`task-status-${t.id}`} />
                <Link to={`/tasks/${encodeURIComponent(t.id)}`} className="task__desc" title={t.description} data-testid={`task-link-${t.id}`}>
                  {t.description}
                </Link>
                <time className="muted small mono">{formatClock(t.createdAt)}</time>
              </div>
              <div className="task__meta small">
                {t.assignedAgentId && <span>→ {names.get(t.assignedAgentId) ?? t.assignedAgentId}</span>}
                {t.winningBidSats !== null && <span>{t.winningBidSats} sats</span>}
                {canOperate && !TERMINAL_TASK_STATUSES.includes(t.status) && (
                  <button type="button" className="btn btn--small btn--ghost" disabled={cancel.isPending} onClick={() => cancel.mutate(t.id)} data-testid={`task-cancel-${t.id}`}>
                    Cancel
                  </button>
                )}
              </div>
              {text && (
                <p className={t.status === 'completed' ? 'task__result' : 'task__result task__result--bad'} data-testid={`task-outcome-${t.id}`}>
                  {text}
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
