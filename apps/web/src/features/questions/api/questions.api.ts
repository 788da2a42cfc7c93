import type { ListResponse, QuestionDto, QuestionStatus } from '@app/contracts';
import { api } from '../../../lib/api-client';

export const fetchQuestions = (status?: QuestionStatus) => api.get<ListResponse<QuestionDto>>('/api/questions', { status });
/** Answers with the chosen options (one for single choice). */
export const answerQuestion = (id: string, answer: string[]) => api.post<QuestionDto>(`/api/questions/${encodeURIComponent(id)}/answer`, { answer });
export const cancelQuestion = (id: string) => api.post<QuestionDto>(`/api/questions/${encodeURIComponent(id)}/cancel`);
