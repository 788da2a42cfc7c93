import { Injectable, Logger } from '@nestjs/common';
import type { PersonaDto, RouterChatMessage as ChatMessage, TaskDto } from '@app/contracts';
import { AppError } from '../../common/app-error';
import type { PersonaExecutor, PersonaWorkReport } from './persona-executor';
import { LlmRouterService } from '../../llm-router/llm-router.service';
import { RouterUnavailableError } from '../../llm-router/router.errors';
import { MemoryService } from '../../memory/memory.service';

/** Token budget of the memory context a persona reads before its work. */
export const PERSONA_CONTEXT_TOKENS = 800;

/** Per-call budget for a persona's answer (tokens). */
export const PERSONA_MAX_TOKENS = 1024;

/** The system prompt of a persona: its role, what it does, and how to answer. */
export function personaSystemPrompt(p: PersonaDto): string {
  return (
    `You are ${p.name}, the ${p.role} of an AI agent swarm. ${p.description} ` +
    `Your capabilities: ${p.capabilities.join(', ')}. ` +
    'You won this task in an auction and are paid on completion: do the work now and answer with the result itself, ' +
    'concise and concrete, in plain text. If something cannot be done, say exactly what is missing.'
  );
}

/**
 * Runs a persona's won task through the LLM router: system prompt per persona role, then the persona's memory context
 * (its own and shared entries, `PERSONA_CONTEXT_TOKENS`), the task as the user message; the answer is stored in memory
 * as a `task_result` afterwards.
 * Reports `tool.called` before the call and `tool.completed` (provider, model, latencyMs, attempts, tokens) or
 * `tool.failed` (reason, attempts) after it; `tool.called` carries the prompt and `tool.completed` the output (each text up
 * to 20,000 characters) for the task trace. When no provider is reachable the task fails with the router's message,
 * which says what to configure (start Ollama, set an API key, allow cloud fallback, ...).
 */
/** Longest prompt message / response text copied into a `tool.*` event (characters). */
const TRACE_TEXT_MAX = 20_000;

@Injectable()
export class LlmPersonaExecutor implements PersonaExecutor {
  private readonly logger = new Logger(LlmPersonaExecutor.name);

  constructor(
    private readonly router: LlmRouterService,
    private readonly memory: MemoryService,
  ) {}

  /** The persona's memory context for a task (its own entries + the shared scope); '' when memory has nothing or fails. */
  private async contextFor(persona: PersonaDto, task: TaskDto): Promise<string> {
    try {
      const filters = persona.agentId ? { agentId: persona.agentId, includeShared: true } : {};
      return (await this.memory.getContext(task.description.slice(0, 2000), { maxTokens: PERSONA_CONTEXT_TOKENS, filters })).text;
    } catch (err) {
      this.logger.warn(`memory context unavailable: ${(err as Error).message}`);
      return '';
    }
  }

  /** Why no persona can work now: the router's `unavailableReason()` (no provider would take a default request). */
  unavailableReason(): string | null {
    return this.router.unavailableReason();
  }

  /**
   * @returns `{ result }` = the model's answer (trimmed; an empty answer is an error)
   * @throws Error with the router's reason (the task then fails with that message)
   */
  async execute(persona: PersonaDto, task: TaskDto, report: PersonaWorkReport): Promise<{ result: string }> {
    const context = await this.contextFor(persona, task);
    const messages: ChatMessage[] = [
      { role: 'system', content: personaSystemPrompt(persona) },
      ...(context ? [{ role: 'system' as const, content: context }] : []),
      { role: 'user', content: task.description },
    ];
    // the prompt as sent (the task page's trace shows it in full; capped so one event stays small)
    const prompt = messages.map((m) => ({ role: m.role, content: m.content.slice(0, TRACE_TEXT_MAX) }));
    await report.tool('tool.called', { name: 'llm.complete', input: task.description.slice(0, 200), maxTokens: PERSONA_MAX_TOKENS, prompt });
    const started = Date.now();
    try {
      const r = await this.router.complete({ messages, max_tokens: PERSONA_MAX_TOKENS });
      const answer = r.content.trim();
      if (answer === '') throw new AppError('router/empty_answer', `${r.provider} (${r.model}) returned an empty answer`, 502);
      await report.tool('tool.completed', {
        name: 'llm.complete',
        provider: r.provider,
        model: r.model,
        latencyMs: r.latencyMs,
        durationMs: Date.now() - started,
        attempts: r.attempts.map((a) => ({ provider: a.provider, outcome: a.outcome, reason: a.reason ?? null, latencyMs: a.latencyMs })),
        tokensIn: r.usage.promptTokens,
        tokensOut: r.usage.completionTokens,
        output: r.content.slice(0, TRACE_TEXT_MAX),
      });
      await this.memory
        .store({ content: answer.slice(0, 65_536), type: 'task_result', source: persona.name, agentId: persona.agentId, taskId: task.id, metadata: { task: task.description.slice(0, 200) } })
        .catch((err: Error) => this.logger.warn(`could not store the task result in memory: ${err.message}`));
      return { result: answer };
    } catch (err) {
      const attempts = err instanceof RouterUnavailableError ? err.attempts : [];
      const message = err instanceof Error ? err.message : String(err);
      await report.tool('tool.failed', {
        name: 'llm.complete',
        durationMs: Date.now() - started,
        reason: message.slice(0, 1000),
        code: err instanceof AppError ? err.code : 'router/error',
        attempts: attempts.map((a) => ({ provider: a.provider, outcome: a.outcome, reason: a.reason ?? null, latencyMs: a.latencyMs })),
      });
      throw new Error(err instanceof RouterUnavailableError ? `LLM router: ${message}` : `LLM call failed: ${message}`);
    }
  }
}
