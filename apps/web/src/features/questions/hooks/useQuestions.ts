import { useEffect, useRef } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ListResponse, QuestionDto } from '@app/contracts';
import { useBaseline, useChannel, type Snapshot } from '../../../lib/realtime-react';
import { answerQuestion, cancelQuestion } from '../api/questions.api';
import { questionKeys, questionsQuery } from '../api/questions.queries';

/** Questions split into the open inbox (oldest first: answer in order) and the resolved history (newest first). */
export function useQuestions() {
  const query = useQuery(questionsQuery());
  const items = query.data?.items ?? [];
  const open = items.filter((q) => q.status === 'open').sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const history = items.filter((q) => q.status !== 'open').sort((a, b) => (b.resolvedAt ?? b.createdAt).localeCompare(a.resolvedAt ?? a.createdAt));
  return { ...query, open, history };
}

function replaceQuestion(qc: ReturnType<typeof useQueryClient>, q: QuestionDto) {
  qc.setQueryData<Snapshot<ListResponse<QuestionDto>>>(questionKeys.list(), (old) =>
    old ? { ...old, items: old.items.map((x) => (x.id === q.id ? q : x)) } : old,
  );
}

export function useAnswerQuestion() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, answer }: { id: string; answer: string[] }) => answerQuestion(id, answer),
    onSuccess: (q) => replaceQuestion(qc, q),
    onError: () => qc.invalidateQueries({ queryKey: questionKeys.all }),
  });
}

export function useCancelQuestion() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => cancelQuestion(id),
    onSuccess: (q) => replaceQuestion(qc, q),
    onError: () => qc.invalidateQueries({ queryKey: questionKeys.all }),
  });
}

/**
 * The questions feature's one realtime hook: any `question.*` event on the `questions` channel refetches the
 * list (coalesced to one refetch per 200 ms). Mount once per page (Questions, Phone view).
 */
export function useQuestionsLiveUpdates(): void {
  const qc = useQueryClient();
  const query = useQuery(questionsQuery());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const sub = useChannel('questions', {
    onEvents: (events) => {
      if (!events.some((e) => e.type.startsWith('question.')) || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        void qc.invalidateQueries({ queryKey: questionKeys.all });
      }, 200);
    },
    onGap: () => {
      void qc.invalidateQueries({ queryKey: questionKeys.all });
    },
  });
  useBaseline(sub, query.data);
}
