import '../memory.css';
import { MEMORY_ENTRY_TYPES } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { formatDateTime } from '../../../lib/time';
import { fmtShare } from '../format';
import { useMemoryStats, useReindex } from '../hooks/useMemory';

type MemoryStatsPanelProps = { canOperate: boolean };

/** Entries by type, embedded share, queue lag, embedder status and the re-embedding progress (live via `memory`). */
export function MemoryStatsPanel({ canOperate }: MemoryStatsPanelProps) {
  const stats = useMemoryStats();
  const reindex = useReindex();
  const s = stats.data;
  return (
    <section className="panel" data-testid="memory-stats">
      <h2>Stats</h2>
      {stats.isPending && <span className="spinner" aria-label="loading" />}
      <ErrorText error={stats.error} />
      {s && (
        <>
          <dl className="memory-stats__grid">
            <div>
              <dt className="muted small">entries</dt>
              <dd data-testid="memory-stats-total">{s.total}</dd>
            </div>
            <div>
              <dt className="muted small">embedded</dt>
              <dd data-testid="memory-stats-embedded">
                {s.embedded} ({fmtShare(s.embeddedShare)})
              </dd>
            </div>
            <div>
              <dt className="muted small">queue lag</dt>
              <dd data-testid="memory-stats-lag">{s.queueLag}</dd>
            </div>
            <div>
              <dt className="muted small">deleted</dt>
              <dd>{s.deleted}</dd>
            </div>
          </dl>
          <p className="small">
            {MEMORY_ENTRY_TYPES.map((t) => (
              <span key={t} className="tag" data-testid={`memory-stats-type-${t}`}>
                {t} {s.byType[t] ?? 0}
              </span>
            ))}
          </p>
          <div className="memory-embedder" data-testid="memory-embedder">
            <span className={`badge memory-embedder__state memory-embedder__state--${s.embedder.state}`} data-testid="memory-embedder-state">
              {s.embedder.state}
            </span>{' '}
            <span className="mono small">
              {s.embedder.kind} · {s.embedder.model} · {s.embedder.dimension}-d · index {s.vectorIndex}
            </span>
            {s.embedder.lastError && <p className="error small">{s.embedder.lastError}</p>}
            {s.embedder.retryAt && <p className="small muted">next attempt {formatDateTime(s.embedder.retryAt)}</p>}
          </div>
          {Object.keys(s.vectorsByModel).length > 0 && (
            <p className="small muted">
              vectors:{' '}
              {Object.entries(s.vectorsByModel).map(([m, n]) => (
                <span key={m} className="mono">
                  {m} {n}{' '}
                </span>
              ))}
            </p>
          )}
          {s.reindex ? (
            <div className="memory-reindex" data-testid="memory-reindex">
              <span className="small">
                Re-embedding with {s.reindex.model}: {s.reindex.done} / {s.reindex.total}
              </span>
              <progress max={Math.max(1, s.reindex.total)} value={Math.min(s.reindex.done, s.reindex.total)} data-testid="memory-reindex-progress" />
            </div>
          ) : (
            <p className="small muted" data-testid="memory-reindex-idle">
              No re-embedding running.
            </p>
          )}
          {canOperate && (
            <button type="button" className="btn btn--small" disabled={reindex.isPending || s.reindex !== null} onClick={() => reindex.mutate()} data-testid="memory-reindex-start">
              Re-embed everything
            </button>
          )}
          <ErrorText error={reindex.error} />
        </>
      )}
    </section>
  );
}
