import type { IngestibleEventType, PersonaDto, TaskDto } from '@app/contracts';

/** DI token of the executor that does a persona's work on a won task (bound to the LLM router's executor). */
export const PERSONA_EXECUTOR = Symbol('PERSONA_EXECUTOR');

/** What an executor may report while it works: tool events (`tool.called` / `tool.completed` / `tool.failed`). */
export interface PersonaWorkReport {
  /** Appends a tool event for this task, attributed to the persona (source `persona:<id>`). Resolves once durable. */
  tool(type: IngestibleEventType, data: Record<string, unknown>): Promise<void>;
}

/**
 * Does the work of a task a persona won. Resolve with the result text (the task completes with it); reject with an
 * Error to fail the task with the error message.
 */
export interface PersonaExecutor {
  /**
   * Why personas cannot do their work now (no LLM provider can serve a request), or null when they can. Personas do
   * not bid while this is non-null; the agents API shows it as `unavailableReason`.
   */
  unavailableReason(): string | null;
  execute(persona: PersonaDto, task: TaskDto, report: PersonaWorkReport): Promise<{ result: string }>;
}
