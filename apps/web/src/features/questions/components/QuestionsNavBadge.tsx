import { useQuestions, useQuestionsLiveUpdates } from '../hooks/useQuestions';

/**
 * Open-question count next to the Questions nav link (nothing when zero), the same badge as the upgrades one.
 * Mounted by the desktop shell, it keeps the `questions` channel subscription for every desktop page.
 */
export function QuestionsNavBadge() {
  useQuestionsLiveUpdates();
  const { open } = useQuestions();
  const n = open.length;
  if (n === 0) return null;
  return (
    <span className="nav-badge" data-testid="questions-badge" aria-label={`${n} open`}>
      {n}
    </span>
  );
}
