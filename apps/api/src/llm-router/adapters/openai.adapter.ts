import type { AdapterRequest, AdapterResult, ProviderAdapter, ProviderConfig, StreamChunk } from '../llm-router.types';
import { extractErrorMessage, ProviderCallError } from '../router.errors';
import { guardStream, openRequest, parseJsonBody, requestText, sseEvents } from './http-client';

interface OpenAiResponse {
  model?: string;
  choices?: { message?: { content?: string | null }; delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
  error?: unknown;
}

/** Runs `fn` with an abort signal that fires after `timeoutMs`. */
export async function withTimeout<T>(timeoutMs: number, fn: (signal: AbortSignal, timedOut: () => boolean) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let fired = false;
  const t = setTimeout(() => {
    fired = true;
    ac.abort();
  }, timeoutMs);
  try {
    return await fn(ac.signal, () => fired);
  } finally {
    clearTimeout(t);
  }
}

/**
 * Any OpenAI-compatible server (OpenAI, LM Studio, vLLM, llama.cpp server, OpenRouter): `POST {base}/chat/completions`
 * (SSE when streaming, `[DONE]` terminator required), `GET {base}/models` as the probe. `url` is the base incl. `/v1`.
 */
export class OpenAiAdapter implements ProviderAdapter {
  constructor(private readonly p: ProviderConfig) {}

  private headers(): Record<string, string> {
    return this.p.apiKey ? { authorization: `Bearer ${this.p.apiKey}` } : {};
  }

  private body(req: AdapterRequest, stream: boolean) {
    const b: Record<string, unknown> = { model: req.model, messages: req.messages, temperature: req.temperature, stream };
    if (req.maxTokens !== null) b.max_tokens = req.maxTokens;
    if (stream) b.stream_options = { include_usage: true };
    return b;
  }

  async complete(req: AdapterRequest): Promise<AdapterResult> {
    const { text } = await requestText({ method: 'POST', url: `${this.p.url}/chat/completions`, headers: this.headers(), body: this.body(req, false), signal: req.signal, timedOut: req.timedOut });
    const j = parseJsonBody<OpenAiResponse>(text, 'openai');
    if (j.error) throw new ProviderCallError('error_body', `openai error: ${extractErrorMessage(text)}`);
    const choice = j.choices?.[0];
    const content = choice?.message?.content;
    if (typeof content !== 'string') throw new ProviderCallError('bad_response', 'openai response has no choices[0].message.content');
    const pt = j.usage?.prompt_tokens ?? 0;
    const ct = j.usage?.completion_tokens ?? 0;
    return { content, model: j.model ?? req.model, usage: { promptTokens: pt, completionTokens: ct, totalTokens: j.usage?.total_tokens ?? pt + ct }, finishReason: choice?.finish_reason ?? null };
  }

  async *stream(req: AdapterRequest): AsyncGenerator<StreamChunk> {
    const res = await openRequest({ method: 'POST', url: `${this.p.url}/chat/completions`, headers: this.headers(), body: this.body(req, true), signal: req.signal, timedOut: req.timedOut });
    let model = req.model;
    let finish: string | null = null;
    let pt = 0;
    let ct = 0;
    for await (const ev of guardStream(sseEvents(res.body), req.timedOut)) {
      if (ev.data === '[DONE]') {
        yield { type: 'done', model, usage: { promptTokens: pt, completionTokens: ct, totalTokens: pt + ct }, finishReason: finish };
        return;
      }
      const j = parseJsonBody<OpenAiResponse>(ev.data, 'openai stream');
      if (ev.event === 'error' || j.error) throw new ProviderCallError('error_body', `openai stream error: ${extractErrorMessage(ev.data)}`);
      if (j.model) model = j.model;
      if (j.usage) {
        pt = j.usage.prompt_tokens ?? pt;
        ct = j.usage.completion_tokens ?? ct;
      }
      const c = j.choices?.[0];
      if (c?.finish_reason) finish = c.finish_reason;
      const text = c?.delta?.content;
      if (text) yield { type: 'delta', text };
    }
    throw new ProviderCallError('stream_interrupted', 'openai stream ended without [DONE]');
  }

  async probe(timeoutMs: number): Promise<void> {
    await withTimeout(timeoutMs, async (signal, timedOut) => {
      const { text } = await requestText({ method: 'GET', url: `${this.p.url}/models`, headers: this.headers(), signal, timedOut });
      parseJsonBody(text, 'openai /models');
    });
  }
}
