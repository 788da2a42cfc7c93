import { queryOptions } from '@tanstack/react-query';
import { stampSnapshot } from '../../../lib/realtime-react';
import { fetchQuestions } from './questions.api';

export const questionKeys = {
  all: ['questions'] as const,
  list: () => ['questions', 'list'] as const,
};

/** Every question (open and history); its headSeq is the `questions` channel baseline. */
export const questionsQuery = () => queryOptions({ queryKey: questionKeys.list(), queryFn: async () => stampSnapshot(await fetchQuestions()) });
