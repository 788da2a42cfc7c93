import '../memory.css';
import type { MemoryEntryDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { formatDateTime } from '../../../lib/time';
import { useDeleteEntry, useMemoryEntry } from '../hooks/useMemory';

type MemoryEntryDetailProps = { id: string; canOperate: boolean; onClose: () => void };

/** One entry: full content and metadata as text, provenance, facts' validity, vectors; operators can soft-delete it. */
export function MemoryEntryDetail({ id, canOperate, onClose }: MemoryEntryDetailProps) {
  const q = useMemoryEntry(id);
  const del = useDeleteEntry();
  return (
    <section className="panel" data-testid="memory-entry">
      <div className="panel__title-row">
        <h2>Entry</h2>
        <button type="button" className="btn btn--ghost btn--small" onClick={onClose} data-testid="memory-entry-close">
          Close
        </button>
      </div>
      {q.isPending && <span className="spinner" aria-label="loading" />}
      <ErrorText error={q.error} />
      {q.data && <EntryBody entry={q.data} />}
      {q.data && canOperate && !q.data.deletedAt && (
        <div className="btn-row">
          <button type="button" className="btn btn--danger btn--small" disabled={del.isPending} onClick={() => del.mutate(q.data.id)} data-testid="memory-entry-delete">
            Delete
          </button>
        </div>
      )}
      <ErrorText error={del.error} />
    </section>
  );
}

function EntryBody({ entry }: { entry: MemoryEntryDto }) {
  const rows: [string, string | null][] = [
    ['id', entry.id],
    ['type', entry.type],
    ['source', entry.source],
    ['agent', entry.agentId],
    ['task', entry.taskId],
    ['session', entry.sessionId],
    ['created', formatDateTime(entry.createdAt)],
    ['vectors', entry.embeddedModels.length ? entry.embeddedModels.join(', ') : 'not embedded yet'],
  ];
  if (entry.type === 'fact') {
    rows.push(['subject', entry.subject], ['key', entry.factKey], ['valid from', formatDateTime(entry.validFrom)], ['valid to', entry.validTo ? formatDateTime(entry.validTo) : 'still valid']);
    if (entry.supersededBy) rows.push(['superseded by', entry.supersededBy]);
  }
  if (entry.deletedAt) rows.push(['deleted', formatDateTime(entry.deletedAt)]);
  return (
    <>
      {entry.deletedAt && <p className="warning">This entry was deleted; it no longer appears in search.</p>}
      <pre className="memory-entry__content" data-testid="memory-entry-content">
        {entry.content}
      </pre>
      <dl className="memory-entry__fields">
        {rows.map(([k, v]) => (
          <div key={k} className="memory-entry__field">
            <dt className="muted small">{k}</dt>
            <dd className="mono small">{v ?? '–'}</dd>
          </div>
        ))}
      </dl>
      {Object.keys(entry.metadata).length > 0 && (
        <pre className="json" data-testid="memory-entry-metadata">
          {JSON.stringify(entry.metadata, null, 2)}
        </pre>
      )}
    </>
  );
}
