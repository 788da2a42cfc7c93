import { useState, type FormEvent } from 'react';
import { LEDGER_TRANSACTION_STATUSES, LEDGER_TRANSACTION_TYPES, type LedgerTransactionStatus, type LedgerTransactionType } from '@app/contracts';
import { isoToLocalInput, localInputToIso } from '../../../lib/time';
import type { LedgerFilters } from '../api/ledger.api';

type TransactionFiltersProps = { value: LedgerFilters; onApply: (f: LedgerFilters) => void };

/** Filters of the transactions table: type, status, agent, created-at range (local time inputs, sent as UTC). */
export function TransactionFilters({ value, onApply }: TransactionFiltersProps) {
  const [type, setType] = useState<LedgerTransactionType | ''>(value.type);
  const [status, setStatus] = useState<LedgerTransactionStatus | ''>(value.status);
  const [agentId, setAgentId] = useState(value.agentId);
  const [from, setFrom] = useState(isoToLocalInput(value.from));
  const [to, setTo] = useState(isoToLocalInput(value.to));

  const handleSubmit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ type, status, agentId: agentId.trim(), from: localInputToIso(from), to: localInputToIso(to) });
  };
  const handleReset = () => {
    setType('');
    setStatus('');
    setAgentId('');
    setFrom('');
    setTo('');
    onApply({ type: '', status: '', agentId: '' });
  };

  return (
    <form className="ledger-filters" onSubmit={handleSubmit} data-testid="ledger-filters">
      <label className="field">
        <span>type</span>
        <select value={type} onChange={(e) => setType(e.target.value as LedgerTransactionType | '')} data-testid="ledger-filter-type">
          <option value="">any</option>
          {LEDGER_TRANSACTION_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>status</span>
        <select value={status} onChange={(e) => setStatus(e.target.value as LedgerTransactionStatus | '')} data-testid="ledger-filter-status">
          <option value="">any</option>
          {LEDGER_TRANSACTION_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>agent</span>
        <input value={agentId} onChange={(e) => setAgentId(e.target.value)} placeholder="agent id" maxLength={64} data-testid="ledger-filter-agent" />
      </label>
      <label className="field">
        <span>from</span>
        <input type="datetime-local" step={1} value={from} onChange={(e) => setFrom(e.target.value)} data-testid="ledger-filter-from" />
      </label>
      <label className="field">
        <span>to</span>
        <input type="datetime-local" step={1} value={to} onChange={(e) => setTo(e.target.value)} data-testid="ledger-filter-to" />
      </label>
      <div className="btn-row">
        <button type="submit" className="btn btn--primary" data-testid="ledger-filter-apply">
          Apply
        </button>
        <button type="button" className="btn btn--ghost" onClick={handleReset}>
          Reset
        </button>
      </div>
    </form>
  );
}
