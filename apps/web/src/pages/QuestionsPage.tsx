import { ErrorText } from '../components/ui/ErrorText';
import { useCanOperate } from '../features/auth/hooks/useAuth';
import { QuestionCard } from '../features/questions/components/QuestionCard';
import { QuestionHistory } from '../features/questions/components/QuestionHistory';
import { useQuestions, useQuestionsLiveUpdates } from '../features/questions/hooks/useQuestions';

/** Operator inbox: open questions on top, then answered / cancelled / expired history. Live via `questions`. */
export function QuestionsPage() {
  useQuestionsLiveUpdates();
  const { open, history, error, isPending } = useQuestions();
  const canOperate = useCanOperate();
  return (
    <div className="page-stack">
      <section className="panel" data-testid="questions-inbox">
        <h2>
          Inbox <span className="muted small">{open.length} open</span>
        </h2>
        {isPending && <p className="muted">Loading…</p>}
        <ErrorText error={error} />
        {!isPending && open.length === 0 && <p className="muted">No open questions.</p>}
        <div className="questions">
          {open.map((q) => (
            <QuestionCard key={q.id} question={q} canAnswer={canOperate} />
          ))}
        </div>
      </section>
      <section className="panel" data-testid="questions-history">
        <h2>History</h2>
        <QuestionHistory questions={history} />
      </section>
    </div>
  );
}
