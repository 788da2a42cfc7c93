import '../memory.css';
import { useState, type FormEvent } from 'react';
import { MEMORY_ENTRY_TYPES, MEMORY_SEARCH_MODES, type MemoryEntryType, type MemorySearchHit, type MemorySearchMode } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { formatDateTime, localInputToIso } from '../../../lib/time';
import type { MemorySearchParams } from '../api/memory.api';
import { fmtScore } from '../format';
import { useMemorySearch } from '../hooks/useMemory';

type MemorySearchPanelProps = {
  selectedId: string | null;
  onSelect: (id: string) => void;
};

/** Search form (query, mode, type, agent, task, session, time range) and the ranked hits with their score breakdown. */
export function MemorySearchPanel({ selectedId, onSelect }: MemorySearchPanelProps) {
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState<MemorySearchMode>('hybrid');
  const [type, setType] = useState<MemoryEntryType | ''>('');
  const [agentId, setAgentId] = useState('');
  const [taskId, setTaskId] = useState('');
  const [sessionId, setSessionId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [params, setParams] = useState<MemorySearchParams | null>(null);
  const search = useMemorySearch(params);

  const handleSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!query.trim()) return;
    setParams({
      query: query.trim(),
      mode,
      limit: 20,
      filters: { type: type || undefined, agentId: agentId.trim(), taskId: taskId.trim(), sessionId: sessionId.trim(), from: localInputToIso(from), to: localInputToIso(to) },
    });
  };

  return (
    <section className="panel" data-testid="memory-search">
      <h2>Search</h2>
      <form className="memory-filters" onSubmit={handleSubmit}>
        <label className="field memory-filters__query">
          <span>Query</span>
          <input value={query} onChange={(e) => setQuery(e.target.value)} placeholder="what do we know about…" maxLength={2000} data-testid="memory-query" />
        </label>
        <label className="field">
          <span>Mode</span>
          <select value={mode} onChange={(e) => setMode(e.target.value as MemorySearchMode)} data-testid="memory-mode">
            {MEMORY_SEARCH_MODES.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Type</span>
          <select value={type} onChange={(e) => setType(e.target.value as MemoryEntryType | '')} data-testid="memory-filter-type">
            <option value="">any</option>
            {MEMORY_ENTRY_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Agent</span>
          <input value={agentId} onChange={(e) => setAgentId(e.target.value)} placeholder="agent id" maxLength={64} data-testid="memory-filter-agent" spellCheck={false} />
        </label>
        <label className="field">
          <span>Task</span>
          <input value={taskId} onChange={(e) => setTaskId(e.target.value)} placeholder="task id" maxLength={64} data-testid="memory-filter-task" spellCheck={false} />
        </label>
        <label className="field">
          <span>Session</span>
          <input value={sessionId} onChange={(e) => setSessionId(e.target.value)} placeholder="session id" maxLength={128} data-testid="memory-filter-session" spellCheck={false} />
        </label>
        <label className="field">
          <span>From</span>
          <input type="datetime-local" step={1} value={from} onChange={(e) => setFrom(e.target.value)} data-testid="memory-filter-from" />
        </label>
        <label className="field">
          <span>To</span>
          <input type="datetime-local" step={1} value={to} onChange={(e) => setTo(e.target.value)} data-testid="memory-filter-to" />
        </label>
        <button type="submit" className="btn btn--primary" disabled={!query.trim()} data-testid="memory-search-submit">
          Search
        </button>
      </form>
      <ErrorText error={search.error} testId="memory-search-error" />
      {search.isFetching && <span className="spinner" aria-label="searching" />}
      {search.data && (
        <>
          <p className="small muted" data-testid="memory-search-mode">
            mode <strong data-mode={search.data.mode}>{search.data.mode}</strong>
            {search.data.model && <> · model {search.data.model}</>}
            {search.data.degraded && <span className="warning"> · degraded: {search.data.degraded}</span>} · {search.data.hits.length} hits
          </p>
          {search.data.hits.length === 0 ? (
            <p className="muted">Nothing matched.</p>
          ) : (
            <ol className="memory-hits" data-testid="memory-hits">
              {search.data.hits.map((h) => (
                <HitRow key={h.entry.id} hit={h} selected={h.entry.id === selectedId} onSelect={onSelect} />
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

type HitRowProps = { hit: MemorySearchHit; selected: boolean; onSelect: (id: string) => void };

const COMPONENTS = ['lexical', 'vector', 'neighbors', 'session'] as const;

function HitRow({ hit, selected, onSelect }: HitRowProps) {
  const { entry, components } = hit;
  return (
    <li className={selected ? 'memory-hit memory-hit--selected' : 'memory-hit'} data-testid={`memory-hit-${entry.id}`}>
      <button type="button" className="memory-hit__button" onClick={() => onSelect(entry.id)}>
        <span className="memory-hit__head">
          <span className="tag">{entry.type}</span>
          <span className="small">{entry.source}</span>
          <span className="small muted">{formatDateTime(entry.createdAt)}</span>
          <span className="memory-hit__score mono" title="fused score">
            {fmtScore(hit.score)}
          </span>
        </span>
        <span className="memory-hit__content clamp" data-testid="memory-hit-content">
          {entry.content}
        </span>
        <span className="memory-score" data-testid="memory-score">
          {COMPONENTS.map((c) => (
            <span key={c} className="memory-score__part" title={`${c} ${fmtScore(components[c])}`}>
              <span className="memory-score__label">{c}</span>
              <span className="memory-score__bar" aria-hidden="true">
                <span className={`memory-score__fill memory-score__fill--${c}`} style={{ width: `${Math.min(100, Math.max(0, components[c] * 100))}%` }} />
              </span>
              <span className="mono small" data-component={c}>
                {fmtScore(components[c])}
              </span>
            </span>
          ))}
          {components.sourceBoost !== 1 && <span className="small mono">×{fmtScore(components.sourceBoost)} source</span>}
        </span>
      </button>
    </li>
  );
}
