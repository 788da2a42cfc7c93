import '../events.css';
import { Link } from 'react-router-dom';
import type { EventEnvelope } from '@app/contracts';
import { formatDateTime } from '../../../lib/time';
import { formatEvent } from '../format/formatEvent';

type EventsTableProps = {
  events: readonly EventEnvelope[];
};

/** The Events page table; the raw `data` is shown as JSON text (never HTML). */
export function EventsTable({ events }: EventsTableProps) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="events-table">
        <thead>
          <tr>
            <th>seq</th>
            <th>time</th>
            <th>type</th>
            <th>source</th>
            <th>agent</th>
            <th>task</th>
            <th>summary</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => {
            const f = formatEvent(e);
            return (
              <tr key={e.seq} data-testid="event-row" data-type={e.type}>
                <td className="mono">{e.seq}</td>
                <td className="mono nowrap">{formatDateTime(e.createdAt)}</td>
                <td className="nowrap">
                  <span aria-hidden="true">{f.icon}</span> {e.type}
                </td>
                <td>{e.source}</td>
                <td className="mono">{e.agentId ? <Link to={`/agents/${encodeURIComponent(e.agentId)}`}>{e.agentId}</Link> : ''}</td>
                <td className="mono">
                  {e.taskId ? (
                    <Link to={`/tasks/${encodeURIComponent(e.taskId)}`} title={e.taskId}>
                      {e.taskId.slice(0, 8)}
                    </Link>
                  ) : (
                    ''
                  )}
                </td>
                <td>
                  <details>
                    <summary>{f.text || '—'}</summary>
                    <pre className="json">{JSON.stringify(e.data, null, 2)}</pre>
                  </details>
                </td>
              </tr>
            );
          })}
          {events.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                No events match.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
