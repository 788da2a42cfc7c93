import '../trace.css';
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { TERMINAL_TASK_STATUSES, type AgentDto, type TaskDetailDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { useAssign, useCancel, usePostTask } from '../hooks/useTrace';

type TaskActionsProps = { task: TaskDetailDto; agents: readonly AgentDto[] };

/**
 * Operator actions: cancel a task that is not over; assign it to a chosen agent while its auction is open (closes the
 * auction now) or reassign it before it started; repost a finished one (same description, new auction) or post it
 * again assigned directly to a chosen agent. A repost is a new task (new id), the page follows it.
 */
export function TaskActions({ task, agents }: TaskActionsProps) {
  const navigate = useNavigate();
  const cancel = useCancel(task.id);
  const post = usePostTask();
  const assign = useAssign(task.id);
  const [assignTo, setAssignTo] = useState('');
  const assignable = task.status === 'bidding' || task.status === 'assigned';
  const candidates = agents.filter((a) => a.status !== 'offline' && a.id !== task.assignedAgentId);
  const [agentId, setAgentId] = useState('');
  const over = TERMINAL_TASK_STATUSES.includes(task.status);
  const handleRepost = (assignTo?: string) =>
    post.mutate({ description: task.description, ...(assignTo ? { agentId: assignTo } : {}) }, { onSuccess: (t) => void navigate(`/tasks/${encodeURIComponent(t.id)}`) });
  return (
    <div className="trace-actions">
      <div className="btn-row">
        {!over && (
          <button type="button" className="btn btn--danger btn--small" disabled={cancel.isPending} onClick={() => cancel.mutate()} data-testid="task-action-cancel">
            Cancel task
          </button>
        )}
        {assignable && (
          <>
            <select value={assignTo} onChange={(e) => setAssignTo(e.target.value)} aria-label="Assign to agent now" data-testid="task-action-assign-now-agent">
              <option value="">{task.status === 'bidding' ? 'assign now (closes the auction)…' : 'reassign to…'}</option>
              {candidates.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} ({a.status})
                </option>
              ))}
            </select>
            <button
              type="button"
              className="btn btn--small"
              disabled={!assignTo || assign.isPending}
              onClick={() => assign.mutate(assignTo, { onSuccess: () => setAssignTo('') })}
              data-testid="task-action-assign-now"
            >
              {task.status === 'bidding' ? 'Assign now' : 'Reassign'}
            </button>
          </>
        )}
        {over && (
          <button type="button" className="btn btn--small" disabled={post.isPending} onClick={() => handleRepost()} data-testid="task-action-repost">
            {task.status === 'failed' ? 'Retry (new auction)' : 'Repost (new auction)'}
          </button>
        )}
        {over && (
          <>
            <select value={agentId} onChange={(e) => setAgentId(e.target.value)} aria-label="Assign to agent" data-testid="task-action-agent">
              <option value="">assign to…</option>
              {agents.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} ({a.status})
                </option>
              ))}
            </select>
            <button type="button" className="btn btn--small" disabled={!agentId || post.isPending} onClick={() => handleRepost(agentId)} data-testid="task-action-assign">
              Post to agent
            </button>
          </>
        )}
      </div>
      <ErrorText error={cancel.error ?? assign.error ?? post.error} />
    </div>
  );
}
