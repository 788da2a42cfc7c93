import type { AdapterRequest, AdapterResult, ProviderAdapter, ProviderConfig, StreamChunk } from '../llm-router.types';
import { extractErrorMessage, ProviderCallError } from '../router.errors';
import { guardStream, openRequest, parseJsonBody, requestText, sseEvents } from './http-client';
import { withTimeout } from './openai.adapter';

export const ANTHROPIC_VERSION = '2023-06-01';
/** Anthropic requires max_tokens; used when the request gives none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 1024;

interface AnthropicResponse {
  type?: string;
  model?: string;
  content?: { type: string; text?: string }[];
  stop_reason?: string | null;
  usage?: { input_tokens?: number; output_tokens?: number };
  error?: { type?: string; message?: string };
  message?: AnthropicResponse;
  delta?: { type?: string; text?: string; stop_reason?: string | null };
}

/**
 * Anthropic Messages API: `POST {base}/v1/messages` (SSE events when streaming: message_start, content_block_delta,
 * message_delta, message_stop; `event: error` mid-stream), `GET {base}/v1/models` as the probe.
 * System messages are moved into `system`; consecutive same-role turns are merged (the API requires alternation).
 */
export class AnthropicAdapter implements ProviderAdapter {
  constructor(private readonly p: ProviderConfig) {}

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
    if (this.p.apiKey) h['x-api-key'] = this.p.apiKey;
    return h;
  }

  private body(req: AdapterRequest, stream: boolean) {
    const system = req.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    const turns: { role: 'user' | 'assistant'; content: string }[] = [];
    for (const m of req.messages) {
      if (m.role === 'system') continue;
      const last = turns[turns.length - 1];
      if (last && last.role === m.role) last.content += `\n\n${m.content}`;
      else turns.push({ role: m.role, content: m.content });
    }
    const b: Record<string, unknown> = { model: req.model, messages: turns, max_tokens: req.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS, temperature: Math.min(1, req.temperature), stream };
    if (system) b.system = system;
    return b;
  }

  async complete(req: AdapterRequest): Promise<AdapterResult> {
    const { text } = await requestText({ method: 'POST', url: `${this.p.url}/v1/messages`, headers: this.headers(), body: this.body(req, false), signal: req.signal, timedOut: req.timedOut });
    const j = parseJsonBody<AnthropicResponse>(text, 'anthropic');
    if (j.type === 'error' || j.error) throw new ProviderCallError('error_body', `anthropic error: ${extractErrorMessage(text)}`);
    if (!Array.isArray(j.content)) throw new ProviderCallError('bad_response', 'anthropic response has no content');
    const content = j.content.filter((c) => c.type === 'text').map((c) => c.text ?? '').join('');
    const pt = j.usage?.input_tokens ?? 0;
    const ct = j.usage?.output_tokens ?? 0;
    return { content, model: j.model ?? req.model, usage: { promptTokens: pt, completionTokens: ct, totalTokens: pt + ct }, finishReason: j.stop_reason ?? null };
  }

  async *stream(req: AdapterRequest): AsyncGenerator<StreamChunk> {
    const res = await openRequest({ method: 'POST', url: `${this.p.url}/v1/messages`, headers: this.headers(), body: this.body(req, true), signal: req.signal, timedOut: req.timedOut });
    let model = req.model;
    let pt = 0;
    let ct = 0;
    let finish: string | null = null;
    for await (const ev of guardStream(sseEvents(res.body), req.timedOut)) {
      if (ev.event === 'ping') continue;
      const j = parseJsonBody<AnthropicResponse>(ev.data, 'anthropic stream');
      const type = ev.event ?? j.type;
      if (type === 'error' || j.error) throw new ProviderCallError('error_body', `anthropic stream error: ${extractErrorMessage(ev.data)}`);
      if (type === 'message_start' && j.message) {
        model = j.message.model ?? model;
        pt = j.message.usage?.input_tokens ?? pt;
      } else if (type === 'content_block_delta' && j.delta?.type === 'text_delta' && j.delta.text) {
        yield { type: 'delta', text: j.delta.text };
      } else if (type === 'message_delta') {
        finish = j.delta?.stop_reason ?? finish;
        ct = j.usage?.output_tokens ?? ct;
      } else if (type === 'message_stop') {
        yield { type: 'done', model, usage: { promptTokens: pt, completionTokens: ct, totalTokens: pt + ct }, finishReason: finish };
        return;
      }
    }
    throw new ProviderCallError('stream_interrupted', 'anthropic stream ended without message_stop');
  }

  async probe(timeoutMs: number): Promise<void> {
    await withTimeout(timeoutMs, async (signal, timedOut) => {
      const { text } = await requestText({ method: 'GET', url: `${this.p.url}/v1/models`, headers: this.headers(), signal, timedOut });
      parseJsonBody(text, 'anthropic /v1/models');
    });
  }
}
