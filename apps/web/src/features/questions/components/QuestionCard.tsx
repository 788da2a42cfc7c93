import '../questions.css';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { QuestionDto } from '@app/contracts';
import { Countdown } from '../../../components/ui/Countdown';
import { ErrorText } from '../../../components/ui/ErrorText';
import { formatClock } from '../../../lib/time';
import { useAnswerQuestion, useCancelQuestion } from '../hooks/useQuestions';

type QuestionCardProps = {
  question: QuestionDto;
  canAnswer: boolean;
  /** Phone layout: single choice answers with one big button per option. */
  touch?: boolean;
};

/** How long a one-tap phone answer can be undone before it is sent (ms). */
export const ANSWER_UNDO_MS = 3000;

/**
 * An open question with its options: radios (single) or checkboxes (multiple), or big buttons on the phone.
 * Phone single choice: the tap arms the answer and shows an Undo for `ANSWER_UNDO_MS`, then sends it once; the first
 * tap disables every option at once (a ref, not the next render), so a double tap cannot send twice.
 */
export function QuestionCard({ question: q, canAnswer, touch = false }: QuestionCardProps) {
  const [chosen, setChosen] = useState<string[]>([]);
  const answer = useAnswerQuestion();
  const cancel = useCancelQuestion();
  const [armed, setArmed] = useState<string | null>(null);
  const locked = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const busy = answer.isPending || cancel.isPending || armed !== null;

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const handleTap = (option: string) => {
    if (locked.current) return; // second tap of a double tap, before React re-rendered
    locked.current = true;
    setArmed(option);
    timer.current = setTimeout(() => {
      timer.current = null;
      answer.mutate({ id: q.id, answer: [option] }, { onError: () => ((locked.current = false), setArmed(null)) });
    }, ANSWER_UNDO_MS);
  };
  const handleUndo = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    locked.current = false;
    setArmed(null);
  };

  const handleToggle = (option: string) => {
    setChosen((prev) => (q.multiple ? (prev.includes(option) ? prev.filter((o) => o !== option) : [...prev, option]) : [option]));
  };
  const handleSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (chosen.length) answer.mutate({ id: q.id, answer: chosen });
  };

  return (
    <article className={touch ? 'question question--touch' : 'question'} data-testid={`question-${q.id}`} data-status={q.status}>
      <header className="question__head">
        <span className="muted small">
          {q.agentId ?? 'agent'} · {formatClock(q.createdAt)}
        </span>
        {q.deadline && <Countdown until={q.deadline} />}
      </header>
      <p className="question__text">{q.question}</p>
      {canAnswer ? (
        touch && !q.multiple ? (
          <div className="answer-buttons">
            {q.options.map((o) => (
              <button key={o} type="button" className="btn btn--answer" disabled={busy} onClick={() => handleTap(o)} data-testid={`answer-${o}`}>
                {o}
              </button>
            ))}
            {armed !== null && !answer.isPending && (
              <div className="answer-undo" role="status" data-testid={`answer-undo-bar-${q.id}`}>
                <span>
                  Sending “{armed}” in {Math.round(ANSWER_UNDO_MS / 1000)} s
                </span>
                <button type="button" className="btn" onClick={handleUndo} data-testid={`answer-undo-${q.id}`}>
                  Undo
                </button>
              </div>
            )}
          </div>
        ) : (
          <form onSubmit={handleSubmit} className="question__form">
            <fieldset className={touch ? 'options options--touch' : 'options'} disabled={busy}>
              <legend className="sr-only">{q.multiple ? 'Choose one or more' : 'Choose one'}</legend>
              {q.options.map((o) => (
                <label key={o} className="option">
                  <input
                    type={q.multiple ? 'checkbox' : 'radio'}
                    name={`q-${q.id}`}
                    value={o}
                    checked={chosen.includes(o)}
                    onChange={() => handleToggle(o)}
                    data-testid={`answer-${o}`}
                  />
                  <span>{o}</span>
                </label>
              ))}
            </fieldset>
            <div className="btn-row">
              <button type="submit" className="btn btn--primary" disabled={busy || chosen.length === 0} data-testid={`question-submit-${q.id}`}>
                Answer
              </button>
              <button type="button" className="btn btn--ghost" disabled={busy} onClick={() => cancel.mutate(q.id)} data-testid={`question-cancel-${q.id}`}>
                Cancel question
              </button>
            </div>
          </form>
        )
      ) : (
        <ul className="tags">
          {q.options.map((o) => (
            <li key={o} className="tag">
              {o}
            </li>
          ))}
        </ul>
      )}
      <ErrorText error={answer.error ?? cancel.error} />
    </article>
  );
}
