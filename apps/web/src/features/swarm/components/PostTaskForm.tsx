import '../swarm.css';
import { useState, type FormEvent } from 'react';
import { ErrorText } from '../../../components/ui/ErrorText';
import { useAgents, useCreateTask } from '../hooks/useSwarm';

/**
 * "Post a task": description, optional direct assignment to an agent (otherwise an auction runs). The server's
 * `warning` (no agent able to do it is available now) stays shown under the form until the next post.
 */
export function PostTaskForm() {
  const [description, setDescription] = useState('');
  const [agentId, setAgentId] = useState('');
  const agents = useAgents();
  const create = useCreateTask();
  const [warning, setWarning] = useState<string | null>(null);
  const online = (agents.data?.items ?? []).filter((a) => a.status !== 'offline');

  const handleSubmit = (e: FormEvent) => {
    e.preventDefault();
    const text = description.trim();
    if (!text) return;
    setWarning(null);
    create.mutate(
      { description: text, ...(agentId ? { agentId } : {}) },
      {
        onSuccess: (task) => {
          setWarning(task.warning ?? null);
          setDescription('');
          setAgentId('');
        },
      },
    );
  };

  return (
    <section className="panel" data-testid="post-task-panel">
      <h2>Post a task</h2>
      <form className="stack" onSubmit={handleSubmit}>
        <textarea
          rows={3}
          maxLength={10_000}
          placeholder="What should the swarm do?"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          required
          data-testid="task-description"
        />
        <div className="inline-form">
          <label className="field field--inline">
            <span>Assign to</span>
            <select value={agentId} onChange={(e) => setAgentId(e.target.value)} data-testid="task-agent">
              <option value="">auction (lowest bid wins)</option>
              {online.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} ({a.status})
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="btn btn--primary" disabled={create.isPending || !description.trim()} data-testid="task-submit">
            {create.isPending ? 'Posting…' : 'Post task'}
          </button>
        </div>
        <ErrorText error={create.error} testId="task-error" />
        {warning && (
          <p className="notice-warn" role="status" data-testid="task-warning">
            {warning}
          </p>
        )}
      </form>
    </section>
  );
}
