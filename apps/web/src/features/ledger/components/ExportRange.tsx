import { useState } from 'react';
import { localInputToIso } from '../../../lib/time';
import { ledgerExportUrl } from '../api/ledger.api';

/** The CSV export of a created-at range (local time inputs sent as UTC; `to` exclusive): a plain download link. */
export function ExportRange() {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const fromIso = localInputToIso(from);
  const toIso = localInputToIso(to);
  const invalid = fromIso !== undefined && toIso !== undefined && Date.parse(fromIso) > Date.parse(toIso);
  return (
    <div className="ledger-filters" data-testid="ledger-export">
      <label className="field">
        <span>from</span>
        <input type="datetime-local" step={1} value={from} onChange={(e) => setFrom(e.target.value)} data-testid="ledger-export-from" />
      </label>
      <label className="field">
        <span>to</span>
        <input type="datetime-local" step={1} value={to} onChange={(e) => setTo(e.target.value)} data-testid="ledger-export-to" />
      </label>
      {invalid ? (
        <span className="error small">from is after to</span>
      ) : (
        <a className="btn" href={ledgerExportUrl({ from: fromIso, to: toIso })} download data-testid="ledger-export-csv">
          Export CSV
        </a>
      )}
    </div>
  );
}
