import '../events.css';
import { useState, type FormEvent } from 'react';
import { EVENT_TYPES, type EventType } from '@app/contracts';
import { isoToLocalInput, localInputToIso } from '../../../lib/time';
import { EMPTY_FILTERS, type EventFilters } from '../api/events.api';

type EventFiltersFormProps = {
  /** The applied filters (from the URL): the form starts from them; remount it (`key`) when they change. */
  value: EventFilters;
  onApply: (filters: EventFilters) => void;
};

/** Filters: type multi-select, agent, task (full id or the short id the table shows), source, from/to (local time). */
export function EventFiltersForm({ value, onApply }: EventFiltersFormProps) {
  const [types, setTypes] = useState<EventType[]>(value.types);
  const [agentId, setAgentId] = useState(value.agentId);
  const [taskId, setTaskId] = useState(value.taskId);
  const [source, setSource] = useState(value.source);
  const [from, setFrom] = useState(isoToLocalInput(value.from));
  const [to, setTo] = useState(isoToLocalInput(value.to));

  const handleSubmit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ types, agentId, taskId, source, from: localInputToIso(from), to: localInputToIso(to) });
  };
  const handleReset = () => {
    setTypes([]);
    setAgentId('');
    setTaskId('');
    setSource('');
    setFrom('');
    setTo('');
    onApply(EMPTY_FILTERS);
  };

  return (
    <form className="filters" onSubmit={handleSubmit} data-testid="event-filters">
      <label className="field field--types">
        <span>Types</span>
        <select
          multiple
          size={6}
          value={types}
          data-testid="filter-types"
          onChange={(e) => setTypes(Array.from(e.target.selectedOptions, (o) => o.value as EventType))}
        >
          {EVENT_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <div className="filters__fields">
        <label className="field">
          <span>Agent</span>
          <input value={agentId} onChange={(e) => setAgentId(e.target.value)} placeholder="agent id" data-testid="filter-agent" autoCapitalize="none" spellCheck={false} />
        </label>
        <label className="field">
          <span>Task</span>
          <input value={taskId} onChange={(e) => setTaskId(e.target.value)} placeholder="task id or its first 8 characters" data-testid="filter-task" autoCapitalize="none" spellCheck={false} />
        </label>
        <label className="field">
          <span>Source</span>
          <input value={source} onChange={(e) => setSource(e.target.value)} placeholder="e.g. coordinator" data-testid="filter-source" autoCapitalize="none" spellCheck={false} />
        </label>
        <label className="field">
          <span>From</span>
          <input type="datetime-local" step={1} value={from} onChange={(e) => setFrom(e.target.value)} data-testid="filter-from" />
        </label>
        <label className="field">
          <span>To</span>
          <input type="datetime-local" step={1} value={to} onChange={(e) => setTo(e.target.value)} data-testid="filter-to" />
        </label>
        <div className="filters__actions">
          <button type="submit" className="btn btn--primary" data-testid="filter-apply">
            Apply
          </button>
          <button type="button" className="btn" onClick={handleReset} data-testid="filter-reset">
            Reset
          </button>
        </div>
      </div>
    </form>
  );
}
