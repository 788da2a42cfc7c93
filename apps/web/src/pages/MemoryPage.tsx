import { useSearchParams } from 'react-router-dom';
import { useCanOperate } from '../features/auth/hooks/useAuth';
import { FactsPanel, MemoryEntryDetail, MemorySearchPanel, MemoryStatsPanel, useMemoryLiveUpdates } from '../features/memory';

/**
 * Memory (`/memory`, `?entry=<id>` selects an entry): search with filters and score breakdown on the left; the
 * selected entry, stats with embedder status and re-embedding progress, and the facts editor on the right. Viewers
 * get no edit controls (the API refuses their writes anyway). Live through the `memory` channel.
 */
export function MemoryPage() {
  useMemoryLiveUpdates();
  const canOperate = useCanOperate();
  const [params, setParams] = useSearchParams();
  const entryId = params.get('entry');
  const select = (id: string | null) =>
    setParams((p) => {
      const next = new URLSearchParams(p);
      if (id) next.set('entry', id);
      else next.delete('entry');
      return next;
    });
  return (
    <div className="memory" data-testid="memory-page">
      <div className="page-stack">
        <MemorySearchPanel selectedId={entryId} onSelect={select} />
        <FactsPanel canOperate={canOperate} onSelectEntry={select} />
      </div>
      <div className="page-stack">
        {entryId && <MemoryEntryDetail key={entryId} id={entryId} canOperate={canOperate} onClose={() => select(null)} />}
        <MemoryStatsPanel canOperate={canOperate} />
      </div>
    </div>
  );
}
