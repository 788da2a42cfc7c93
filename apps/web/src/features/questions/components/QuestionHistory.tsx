import '../questions.css';
import type { QuestionDto } from '@app/contracts';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatDateTime } from '../../../lib/time';

type QuestionHistoryProps = { questions: readonly QuestionDto[] };

/** Answered, cancelled and expired questions, newest first. */
export function QuestionHistory({ questions }: QuestionHistoryProps) {
  if (questions.length === 0) return <p className="muted">No resolved questions yet.</p>;
  return (
    <ul className="history">
      {questions.map((q) => (
        <li key={q.id} className="history__item" data-testid={`question-${q.id}`} data-status={q.status}>
          <div className="history__head">
            <StatusBadge status={q.status} />
            <span className="history__question">{q.question}</span>
            <time className="muted small mono">{formatDateTime(q.resolvedAt ?? q.createdAt)}</time>
          </div>
          {q.answer && q.answer.length > 0 && (
            <p className="small">
              answer: <strong>{q.answer.join(', ')}</strong>
              {q.answeredBy && <span className="muted"> by {q.answeredBy}</span>}
            </p>
          )}
        </li>
      ))}
    </ul>
  );
}
