import { useCallback, useState } from 'react';
import { ActivityFeed } from '../features/events/components/ActivityFeed';
import { FEED_HIDDEN_BY_DEFAULT, useEventFeed } from '../features/events/hooks/useEventFeed';
import type { FormatContext } from '../features/events/format/formatEvent';
import { useCanOperate } from '../features/auth/hooks/useAuth';
import { AgentsPanel } from '../features/swarm/components/AgentsPanel';
import { AuctionsPanel } from '../features/swarm/components/AuctionsPanel';
import { PersonasPanel } from '../features/swarm/components/PersonasPanel';
import { PostTaskForm } from '../features/swarm/components/PostTaskForm';
import { TasksPanel } from '../features/swarm/components/TasksPanel';
import { useAgents, useTasks } from '../features/swarm/hooks/useSwarm';
import { useSwarmLiveUpdates } from '../features/swarm/hooks/useSwarmLiveUpdates';
import { ErrorText } from '../components/ui/ErrorText';
import { RouterHealthBadge } from '../features/router';

/** Live: router health in the header; agents, personas, post a task, open auctions, tasks and the activity feed (`all` channel). */
export function LivePage() {
  useSwarmLiveUpdates();
  const [showFlushes, setShowFlushes] = useState(false);
  const feed = useEventFeed('all', { limit: 200, max: 2000, exclude: showFlushes ? [] : FEED_HIDDEN_BY_DEFAULT });
  const canOperate = useCanOperate();
  const tasks = useTasks();
  const agents = useAgents();
  const taskItems = tasks.data?.items;
  const agentItems = agents.data?.items;
  const taskDescription = useCallback((id: string) => taskItems?.find((t) => t.id === id)?.description, [taskItems]);
  const agentName = useCallback((id: string) => agentItems?.find((a) => a.id === id)?.name, [agentItems]);
  const context: FormatContext = { taskDescription, agentName };

  return (
    <>
    <header className="live-header">
      <h1>Live</h1>
      <span className="muted small">LLM router</span>
      <RouterHealthBadge />
    </header>
    <div className="live-grid">
      <div className="live-col">
        <AgentsPanel />
        <PersonasPanel canOperate={canOperate} />
      </div>
      <div className="live-col">
        {canOperate && <PostTaskForm />}
        <AuctionsPanel />
        <TasksPanel canOperate={canOperate} />
      </div>
      <div className="live-col">
        <section className="panel panel--feed">
          <h2>
            Activity <span className="muted small">{feed.data?.items.length ?? 0} events</span>
          </h2>
          <label className="field field--inline small">
            <input type="checkbox" checked={showFlushes} onChange={(e) => setShowFlushes(e.target.checked)} data-testid="feed-show-flushes" />
            show scheduled router.metrics_flushed
          </label>
          <ErrorText error={feed.error} />
          <ActivityFeed events={feed.data?.items ?? []} context={context} loading={feed.isPending} />
        </section>
      </div>
    </div>
    </>
  );
}
