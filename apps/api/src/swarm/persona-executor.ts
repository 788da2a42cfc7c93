import { Injectable } from '@nestjs/common';
import type { IngestibleEventType, PersonaDto, TaskDto } from '@app/contracts';

/** DI token of the executor that does a persona's work on a won task. The LLM router rebinds it. */
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
  execute(persona: PersonaDto, task: TaskDto, report: PersonaWorkReport): Promise<{ result: string }>;
}

/** Label of results produced without any LLM. */
export const PLACEHOLDER_LABEL = '[placeholder — no LLM router configured]';

/**
 * Default executor until an LLM router is configured: reports one `placeholder` tool call and returns a clearly
 * labelled placeholder result, never pretending to have done the work.
 */
@Injectable()
export class PlaceholderPersonaExecutor implements PersonaExecutor {
  async execute(persona: PersonaDto, task: TaskDto, report: PersonaWorkReport): Promise<{ result: string }> {
    const started = Date.now();
    await report.tool('tool.called', { name: 'placeholder', input: task.description.slice(0, 200) });
    const result = `${PLACEHOLDER_LABEL} ${persona.name} (${persona.role}) would handle: "${task.description}"`;
    await report.tool('tool.completed', { name: 'placeholder', durationMs: Date.now() - started });
    return { result };
  }
}
