import type { AdapterRequest, AdapterResult, ProviderAdapter, ProviderConfig, StreamChunk } from '../llm-router.types';
import { ProviderCallError } from '../router.errors';
import { guardStream, lines, openRequest, parseJsonBody, requestText } from './http-client';

interface OllamaChatResponse {
  model?: string;
  message?: { role?: string; content?: string };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

/** Ollama: `POST /api/chat` (JSON, or NDJSON when streaming), `GET /api/tags` as the probe. `max_tokens` -> `num_predict`. */
export class OllamaAdapter implements ProviderAdapter {
  constructor(private readonly p: ProviderConfig) {}

  private body(req: AdapterRequest, stream: boolean) {
    const options: Record<string, number> = { temperature: req.temperature };
    if (req.maxTokens !== null) options.num_predict = req.maxTokens;
    return { model: req.model, messages: req.messages, stream, options };
  }

  async complete(req: AdapterRequest): Promise<AdapterResult> {
    const { text } = await requestText({ method: 'POST', url: `${this.p.url}/api/chat`, body: this.body(req, false), signal: req.signal, timedOut: req.timedOut });
    const j = parseJsonBody<OllamaChatResponse>(text, 'ollama');
    if (j.error) throw new ProviderCallError('error_body', `ollama error: ${j.error}`);
    if (!j.message || typeof j.message.content !== 'string') throw new ProviderCallError('bad_response', 'ollama response has no message');
    const pt = j.prompt_eval_count ?? 0;
    const ct = j.eval_count ?? 0;
    return { content: j.message.content, model: j.model ?? req.model, usage: { promptTokens: pt, completionTokens: ct, totalTokens: pt + ct }, finishReason: j.done_reason ?? 'stop' };
  }

  async *stream(req: AdapterRequest): AsyncGenerator<StreamChunk> {
    const res = await openRequest({ method: 'POST', url: `${this.p.url}/api/chat`, body: this.body(req, true), signal: req.signal, timedOut: req.timedOut });
    for await (const line of guardStream(lines(res.body), req.timedOut)) {
      const j = parseJsonBody<OllamaChatResponse>(line, 'ollama stream');
      if (j.error) throw new ProviderCallError('error_body', `ollama error: ${j.error}`);
      const text = j.message?.content ?? '';
      if (text) yield { type: 'delta', text };
      if (j.done) {
        const pt = j.prompt_eval_count ?? 0;
        const ct = j.eval_count ?? 0;
        yield { type: 'done', model: j.model ?? req.model, usage: { promptTokens: pt, completionTokens: ct, totalTokens: pt + ct }, finishReason: j.done_reason ?? 'stop' };
        return;
      }
    }
    throw new ProviderCallError('stream_interrupted', 'ollama stream ended without done');
  }

  async probe(timeoutMs: number): Promise<void> {
    const ac = new AbortController();
    let timedOut = false;
    const t = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, timeoutMs);
    try {
      const { text } = await requestText({ method: 'GET', url: `${this.p.url}/api/tags`, signal: ac.signal, timedOut: () => timedOut });
      parseJsonBody(text, 'ollama /api/tags');
    } finally {
      clearTimeout(t);
    }
  }
}
