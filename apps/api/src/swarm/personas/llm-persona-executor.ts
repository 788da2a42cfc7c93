import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { PersonaDto, RouterChatMessage as ChatMessage, TaskDto } from '@app/contracts';
import { AppError } from '../../common/app-error';
import type { PersonaExecutor, PersonaWorkReport } from './persona-executor';
import { LlmRouterService } from '../../llm-router/llm-router.service';
import { RouterUnavailableError } from '../../llm-router/router.errors';
import { MemoryService } from '../../memory/memory.service';
import { UpgradeQueueService } from '../../upgrade-queue/upgrade-queue.service';

/** Token budget of the memory context a persona reads before its work. */
export const PERSONA_CONTEXT_TOKENS = 800;

/** Per-call budget for a persona's answer (tokens). */
export const PERSONA_MAX_TOKENS = 1024;

/**
 * When the `forge` persona turns its answer into an upgrade proposal: the task description asks for a patch, a diff
 * or a code change (words "patch", "diff", "code change", "change the code/repo/repository") and the upgrade queue
 * is on. Documented in docs/architecture.md (upgrade queue).
 */
export const FORGE_PATCH_TRIGGER = /\b(patch|diff|code change|change (?:to )?the (?:code|repo|repository))\b/i;

/** Files of the target repository listed in forge's patch prompt (so the model names real paths). */
export const FORGE_PROMPT_FILES = 200;

/**
 * The unified diff in a model's answer: from the first `diff --git ` (or `--- ` followed by `+++ `) line on, code
 * fences removed; null when there is none or it has no hunk (`@@`).
 */
export function extractUnifiedDiff(answer: string): string | null {
  const lines = answer.replace(/\r\n/g, '\n').split('\n').filter((l) => !/^\s*```/.test(l));
  let start = lines.findIndex((l) => l.startsWith('diff --git '));
  if (start < 0) start = lines.findIndex((l, i) => l.startsWith('--- ') && (lines[i + 1] ?? '').startsWith('+++ '));
  if (start < 0) return null;
  const diff = `${lines.slice(start).join('\n').trimEnd()}\n`;
  return /^@@ /m.test(diff) ? diff : null;
}

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
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The upgrade queue when it is on (looked up lazily: the upgrade-queue module imports the swarm module). */
  private upgradeQueue(): UpgradeQueueService | null {
    try {
      const q = this.moduleRef.get(UpgradeQueueService, { strict: false });
      return q.cfg.enabled && q.git ? q : null;
    } catch {
      return null;
    }
  }

  /** The extra system message of a forge patch task: answer with a diff only, against these files. */
  private async patchInstructions(q: UpgradeQueueService): Promise<string> {
    const git = q.git!;
    const head = await git.branchHead(q.cfg.targetBranch);
    const files = head ? await git.listFiles(head, FORGE_PROMPT_FILES).catch(() => []) : [];
    return (
      `This task asks for a change to the target repository (branch ${q.cfg.targetBranch}). Answer with ONLY a unified ` +
      'diff in `git diff` format (diff --git a/<path> b/<path>, --- and +++ headers, @@ hunks) that applies to its ' +
      `current head; no prose before it. Files in the repository${files.length === FORGE_PROMPT_FILES ? ` (first ${FORGE_PROMPT_FILES})` : ''}:\n` +
      files.join('\n')
    );
  }

  /**
   * Proposes the diff in forge's answer to the upgrade queue as `persona.agentId`. Never throws: returns the note
   * the task result ends with (the proposal's id, or why nothing was proposed), and reports `tool.called` +
   * `tool.completed` / `tool.failed` (name `upgrade.propose`).
   */
  private async proposeFromAnswer(q: UpgradeQueueService, persona: PersonaDto, task: TaskDto, answer: string, report: PersonaWorkReport): Promise<string> {
    const diff = extractUnifiedDiff(answer);
    await report.tool('tool.called', { name: 'upgrade.propose', input: task.description.slice(0, 200), diffChars: diff?.length ?? 0 });
    if (!diff) {
      await report.tool('tool.failed', { name: 'upgrade.propose', reason: 'the answer contains no unified diff', code: 'upgrade/no_diff' });
      return 'No upgrade proposed: the answer contains no unified diff.';
    }
    try {
      const agentId = persona.agentId ?? `persona-${persona.id}`;
      const up = await q.proposeDiff(
        { agentId, username: null, role: 'agent', label: agentId },
        { title: `${persona.name}: ${task.description.slice(0, 120)}`, rationale: `Written by ${persona.name} for task ${task.id}: ${task.description.slice(0, 1500)}`, diff },
      );
      await report.tool('tool.completed', { name: 'upgrade.propose', upgradeId: up.id, files: up.files.length, linesAdded: up.linesAdded, linesRemoved: up.linesRemoved });
      return `Proposed upgrade ${up.id} (${up.files.length} file(s), +${up.linesAdded}/-${up.linesRemoved}); it waits for an operator's approval.`;
    } catch (err) {
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
      await report.tool('tool.failed', { name: 'upgrade.propose', reason: message, code: err instanceof AppError ? err.code : 'upgrade/error' });
      return `No upgrade proposed: ${message}`;
    }
  }

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
    const queue = persona.id === 'forge' && FORGE_PATCH_TRIGGER.test(task.description) ? this.upgradeQueue() : null;
    const patch = queue ? await this.patchInstructions(queue).catch(() => null) : null;
    const messages: ChatMessage[] = [
      { role: 'system', content: personaSystemPrompt(persona) },
      ...(patch ? [{ role: 'system' as const, content: patch }] : []),
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
      if (queue && patch) return { result: `${answer}\n\n${await this.proposeFromAnswer(queue, persona, task, answer, report)}` };
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
