import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { QuestionDto } from '@app/contracts';

const answerQuestion = vi.fn(async (id: string, answer: string[]) => ({ ...question, id, answer, status: 'answered' }) as QuestionDto);
vi.mock('../../api/questions.api', () => ({
  answerQuestion: (id: string, answer: string[]) => answerQuestion(id, answer),
  cancelQuestion: vi.fn(),
  fetchQuestions: vi.fn(async () => ({ items: [] })),
}));

const { ANSWER_UNDO_MS, QuestionCard } = await import('../QuestionCard');

const question: QuestionDto = {
  id: 'q1', agentId: 'asker', taskId: null, question: 'Ship tonight?', options: ['yes', 'no'], multiple: false, deadline: null,
  status: 'open', answer: null, answeredBy: null, createdAt: '2026-12-02T05:00:00.000Z', resolvedAt: null,
};

function renderCard() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <QuestionCard question={question} canAnswer touch />
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  answerQuestion.mockClear();
});

describe('phone one-tap answer (issue 12 item 4)', () => {
  it('a double tap sends the answer once, after the undo window', async () => {
    vi.useFakeTimers();
    renderCard();
    const yes = screen.getByTestId('answer-yes');
    fireEvent.click(yes);
    fireEvent.click(yes); // same frame: no re-render in between
    fireEvent.click(screen.getByTestId('answer-no'));
    expect((screen.getByTestId('answer-no') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('answer-undo-bar-q1').textContent).toContain('Sending “yes”');
    expect(answerQuestion).not.toHaveBeenCalled();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(ANSWER_UNDO_MS);
    });
    expect(answerQuestion).toHaveBeenCalledTimes(1);
    expect(answerQuestion).toHaveBeenCalledWith('q1', ['yes']);
  });

  it('undo within the window sends nothing and re-enables the options', async () => {
    vi.useFakeTimers();
    renderCard();
    fireEvent.click(screen.getByTestId('answer-yes'));
    fireEvent.click(screen.getByTestId('answer-undo-q1'));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(ANSWER_UNDO_MS * 2);
    });
    expect(answerQuestion).not.toHaveBeenCalled();
    expect((screen.getByTestId('answer-yes') as HTMLButtonElement).disabled).toBe(false);
    fireEvent.click(screen.getByTestId('answer-no'));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(ANSWER_UNDO_MS);
    });
    expect(answerQuestion).toHaveBeenCalledWith('q1', ['no']);
  });
});
