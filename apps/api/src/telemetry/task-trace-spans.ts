import type { EventEnvelope, EventEnvelopeOf } from '@app/contracts';
import { GEN_AI, GEN_AI_OPERATION } from './gen-ai.semconv';

/** Attribute values we put on spans. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** One span to export, with its children: times in epoch ms, `error` = status message of a failed span. */
export interface SpanSpec {
  name: string;
  kind: 'internal' | 'client';
  startMs: number;
  endMs: number;
  attributes: SpanAttributes;
  error: { type: string; message: string } | null;
  children: SpanSpec[];
}

/** Who ran the task: the agent of `task.assigned`. */
export interface TraceAgent {
  id: string;
  name: string;
  description?: string;
}

/** The name of the LLM tool the persona executor reports (`tool.called {name: 'llm.complete'}`): a `chat` span. */
export const LLM_TOOL = 'llm.complete';

type ToolStart = EventEnvelopeOf<'tool.called'>;
type ToolEnd = EventEnvelopeOf<'tool.completed'> | EventEnvelopeOf<'tool.failed'>;

const ms = (iso: string) => Date.parse(iso);

/**
 * A finished task's trace as OpenTelemetry GenAI spans: one `invoke_agent {agent}` span (assignment or start to the
 * terminal event) with a child per tool call: `chat {model}` for the persona's LLM calls (`llm.complete`: provider,
 * models, token usage, max tokens), `execute_tool {name}` for any other tool. A tool call is a `tool.called` paired
 * with the next `tool.completed`/`tool.failed` of the same name; one without an end closes with the task.
 * Reads the payloads as `EventDataMap` declares them (narrowed on `type`).
 * @param providerType the `gen_ai.provider.name` of a router provider (e.g. `ollama` for `ollama-local`), null if unknown
 * @returns null when the task has not finished or was never assigned to an agent (no agent was invoked)
 */
export function taskTraceSpans(events: readonly EventEnvelope[], agent: TraceAgent | null, providerType: (provider: string) => string | null): SpanSpec | null {
  let assigned: EventEnvelopeOf<'task.assigned'> | null = null;
  let started: EventEnvelopeOf<'task.started'> | null = null;
  let end: EventEnvelopeOf<'task.completed'> | EventEnvelopeOf<'task.failed'> | EventEnvelopeOf<'task.cancelled'> | null = null;
  const open = new Map<string, ToolStart[]>();
  const calls: { start: ToolStart; end: ToolEnd | null }[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'task.assigned':
        assigned = e;
        break;
      case 'task.started':
        started = e;
        break;
      case 'task.completed':
      case 'task.failed':
      case 'task.cancelled':
        end = e;
        break;
      case 'tool.called': {
        const call = { start: e, end: null };
        calls.push(call);
        const name = e.data.name ?? '';
        open.set(name, [...(open.get(name) ?? []), e]);
        break;
      }
      case 'tool.completed':
      case 'tool.failed': {
        const waiting = open.get(e.data.name ?? '');
        const begun = waiting?.shift();
        const call = begun ? calls.find((c) => c.start === begun) : undefined;
        if (call) call.end = e;
        break;
      }
      default:
        break;
    }
  }
  if (!end || !assigned || !assigned.agentId) return null;
  const agentId = assigned.agentId;
  const name = agent?.name ?? agentId;
  const endMs = ms(end.createdAt);
  const startMs = Math.min(endMs, ms((started ?? assigned).createdAt));
  const children = calls.map((c) => toolSpan(c.start, c.end, endMs, providerType));
  const firstProvider = children.find((c) => typeof c.attributes[GEN_AI.PROVIDER_NAME] === 'string')?.attributes[GEN_AI.PROVIDER_NAME];
  const attributes: SpanAttributes = {
    [GEN_AI.OPERATION_NAME]: GEN_AI_OPERATION.INVOKE_AGENT,
    [GEN_AI.AGENT_ID]: agentId,
    [GEN_AI.AGENT_NAME]: name,
    [GEN_AI.CONVERSATION_ID]: end.taskId ?? '',
    'mission_control.task.id': end.taskId ?? '',
    'mission_control.task.status': end.type.slice('task.'.length),
  };
  if (agent?.description) attributes[GEN_AI.AGENT_DESCRIPTION] = agent.description;
  if (firstProvider !== undefined) attributes[GEN_AI.PROVIDER_NAME] = firstProvider;
  if (assigned.data.bidSats !== null) attributes['mission_control.task.bid_sats'] = assigned.data.bidSats;
  let error: SpanSpec['error'] = null;
  if (end.type === 'task.failed') error = { type: 'task_failed', message: end.data.reason };
  if (end.type === 'task.cancelled') attributes['mission_control.task.cancel_reason'] = end.data.reason ?? 'cancelled';
  return { name: `${GEN_AI_OPERATION.INVOKE_AGENT} ${name}`, kind: 'internal', startMs, endMs, attributes, error, children };
}

function toolSpan(start: ToolStart, end: ToolEnd | null, taskEndMs: number, providerType: (provider: string) => string | null): SpanSpec {
  const toolName = start.data.name ?? 'tool';
  const startMs = ms(start.createdAt);
  const endMs = Math.max(startMs, end ? ms(end.createdAt) : taskEndMs);
  const failed = end === null || end.type === 'tool.failed';
  const reason = end?.data.reason ?? end?.data.error ?? (end ? 'tool failed' : 'the task ended before the tool reported an end');
  if (toolName !== LLM_TOOL) {
    return {
      name: `${GEN_AI_OPERATION.EXECUTE_TOOL} ${toolName}`,
      kind: 'internal',
      startMs,
      endMs,
      attributes: { [GEN_AI.OPERATION_NAME]: GEN_AI_OPERATION.EXECUTE_TOOL, [GEN_AI.TOOL_NAME]: toolName, [GEN_AI.TOOL_CALL_ID]: start.id, [GEN_AI.TOOL_TYPE]: 'function' },
      error: failed ? { type: end?.data.code ?? 'tool_error', message: String(reason) } : null,
      children: [],
    };
  }
  const done = end?.type === 'tool.completed' ? end.data : null;
  const model = done?.model ?? null;
  const attributes: SpanAttributes = { [GEN_AI.OPERATION_NAME]: GEN_AI_OPERATION.CHAT };
  const provider = done?.provider ?? end?.data.attempts?.[0]?.provider ?? null;
  if (provider) {
    attributes[GEN_AI.PROVIDER_NAME] = providerType(provider) ?? provider;
    attributes['mission_control.llm.provider'] = provider;
  }
  if (model) {
    attributes[GEN_AI.REQUEST_MODEL] = model;
    attributes[GEN_AI.RESPONSE_MODEL] = model;
  }
  if (typeof start.data.maxTokens === 'number') attributes[GEN_AI.REQUEST_MAX_TOKENS] = start.data.maxTokens;
  if (typeof done?.tokensIn === 'number') attributes[GEN_AI.USAGE_INPUT_TOKENS] = done.tokensIn;
  if (typeof done?.tokensOut === 'number') attributes[GEN_AI.USAGE_OUTPUT_TOKENS] = done.tokensOut;
  if (end?.data.attempts) attributes['mission_control.llm.attempts'] = end.data.attempts.length;
  return {
    name: model ? `${GEN_AI_OPERATION.CHAT} ${model}` : GEN_AI_OPERATION.CHAT,
    kind: 'client',
    startMs,
    endMs,
    attributes,
    error: failed ? { type: end?.data.code ?? 'llm_error', message: String(reason) } : null,
    children: [],
  };
}
