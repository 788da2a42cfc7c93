import '../memory.css';
import { useState, type FormEvent } from 'react';
import type { MemoryEntryDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { formatDateTime, localInputToIso } from '../../../lib/time';
import { useCurrentFacts, useFactHistory, useSetFact } from '../hooks/useMemory';
import { factTimeline } from '../timeline';

type FactsPanelProps = { canOperate: boolean; onSelectEntry: (id: string) => void };

/**
 * Facts: the currently valid ones (subject/key/content), the validity timeline of the selected subject/key, and, for
 * operators, a form that sets a fact (the open version of the same subject/key is superseded, never deleted).
 */
export function FactsPanel({ canOperate, onSelectEntry }: FactsPanelProps) {
  const facts = useCurrentFacts();
  const [selected, setSelected] = useState<{ subject: string; key: string } | null>(null);
  return (
    <section className="panel" data-testid="memory-facts">
      <h2>
        Facts <span className="muted small">{facts.data?.length ?? 0} valid</span>
      </h2>
      <ErrorText error={facts.error} />
      {facts.data && facts.data.length === 0 && <p className="muted">No facts yet.</p>}
      {facts.data && facts.data.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="memory-facts-table">
            <thead>
              <tr>
                <th>Subject</th>
                <th>Key</th>
                <th>Value</th>
                <th>Since</th>
              </tr>
            </thead>
            <tbody>
              {facts.data.map((f) => (
                <tr
                  key={f.id}
                  className={selected?.subject === f.subject && selected?.key === f.factKey ? 'memory-fact memory-fact--selected' : 'memory-fact'}
                  data-testid={`memory-fact-${f.subject}-${f.factKey}`}
                >
                  <td>
                    <button type="button" className="btn btn--ghost btn--small" onClick={() => setSelected({ subject: f.subject ?? '', key: f.factKey ?? '' })}>
                      {f.subject}
                    </button>
                  </td>
                  <td className="mono small">{f.factKey}</td>
                  <td className="memory-fact__value">{f.content}</td>
                  <td className="small muted nowrap">{formatDateTime(f.validFrom)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected && <FactTimeline subject={selected.subject} factKey={selected.key} onSelectEntry={onSelectEntry} />}
      {canOperate && <SetFactForm preset={selected} onSaved={(subject, key) => setSelected({ subject, key })} />}
    </section>
  );
}

type FactTimelineProps = { subject: string; factKey: string; onSelectEntry: (id: string) => void };

/** Every version of one fact on a time axis (first validFrom .. now), with the list of versions below. */
export function FactTimeline({ subject, factKey, onSelectEntry }: FactTimelineProps) {
  const history = useFactHistory(subject, factKey);
  const versions: MemoryEntryDto[] = history.data ?? [];
  const { start, end, segments } = factTimeline(versions, Date.now());
  return (
    <div className="memory-timeline" data-testid="memory-fact-timeline">
      <h3 className="small">
        {subject} · {factKey} <span className="muted">{versions.length} versions</span>
      </h3>
      <ErrorText error={history.error} />
      <div className="memory-timeline__axis" role="img" aria-label={`validity of ${subject} ${factKey}`}>
        {segments.map((s, i) => (
          <span
            key={s.entry.id}
            className={s.open ? 'memory-timeline__seg memory-timeline__seg--open' : `memory-timeline__seg memory-timeline__seg--${i % 2 ? 'b' : 'a'}`}
            style={{ left: `${s.left}%`, width: `${s.width}%` }}
            title={s.entry.content}
          />
        ))}
      </div>
      <div className="memory-timeline__ends small muted">
        <span>{formatDateTime(new Date(start).toISOString())}</span>
        <span>{formatDateTime(new Date(end).toISOString())}</span>
      </div>
      <ol className="memory-timeline__list">
        {segments.map((s) => (
          <li key={s.entry.id} data-testid="memory-fact-version" data-open={s.open}>
            <button type="button" className="btn btn--ghost btn--small" onClick={() => onSelectEntry(s.entry.id)}>
              {formatDateTime(s.entry.validFrom)} → {s.open ? 'now' : formatDateTime(s.entry.validTo)}
            </button>{' '}
            <span className="memory-fact__value">{s.entry.content}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

type SetFactFormProps = { preset: { subject: string; key: string } | null; onSaved: (subject: string, key: string) => void };

function SetFactForm({ preset, onSaved }: SetFactFormProps) {
  const [subject, setSubject] = useState('');
  const [key, setKey] = useState('');
  const [content, setContent] = useState('');
  const [validFrom, setValidFrom] = useState('');
  const set = useSetFact();
  const s = subject || preset?.subject || '';
  const k = key || preset?.key || '';

  const handleSubmit = (e: FormEvent) => {
    e.preventDefault();
    set.mutate(
      { subject: s.trim(), key: k.trim(), content: content.trim(), validFrom: localInputToIso(validFrom) },
      {
        onSuccess: (f) => {
          setContent('');
          setValidFrom('');
          onSaved(f.subject ?? s, f.factKey ?? k);
        },
      },
    );
  };
  return (
    <form className="memory-fact-form" onSubmit={handleSubmit} data-testid="memory-fact-form">
      <h3 className="small">Set a fact</h3>
      <label className="field">
        <span>Subject</span>
        <input value={s} onChange={(e) => setSubject(e.target.value)} maxLength={200} placeholder="operator" data-testid="fact-subject" />
      </label>
      <label className="field">
        <span>Key</span>
        <input value={k} onChange={(e) => setKey(e.target.value)} maxLength={200} placeholder="timezone" data-testid="fact-key" />
      </label>
      <label className="field memory-fact-form__content">
        <span>Value</span>
        <input value={content} onChange={(e) => setContent(e.target.value)} maxLength={65536} data-testid="fact-content" />
      </label>
      <label className="field">
        <span>Valid from (default now)</span>
        <input type="datetime-local" step={1} value={validFrom} onChange={(e) => setValidFrom(e.target.value)} data-testid="fact-valid-from" />
      </label>
      <button type="submit" className="btn btn--primary" disabled={set.isPending || !s.trim() || !k.trim() || !content.trim()} data-testid="fact-submit">
        Save
      </button>
      <ErrorText error={set.error} testId="fact-error" />
    </form>
  );
}
