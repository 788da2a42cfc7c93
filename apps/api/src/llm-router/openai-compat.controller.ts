import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, getSchemaPath } from '@nestjs/swagger';
import Ajv from 'ajv';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../common/app-error';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { Roles } from '../common/decorators/auth.decorators';
import { L402Priced } from '../ledger/l402/l402.decorator';
import { StreamInterruptedError } from './cascade-engine';
import { CHAT_COMPLETION_SSE_EXAMPLE, OpenAiChatCompletionDto, OpenAiModelListDto } from './dto/router-responses.dto';
import { OPENAI_CHAT_REQUEST_SCHEMA, type OpenAiChatRequest } from './dto/openai-chat.schema';
import { MAX_MESSAGE_CHARS } from './dto/router.dto';
import { abortOnClose } from './llm-router.controller';
import { LlmRouterService } from './llm-router.service';
import type { ChatMessage } from './llm-router.types';
import { defaultModel } from './providers-config';

/** OPENAI_CHAT_REQUEST_SCHEMA compiled once (ajv, strict types: "5" is not an integer; `example` is an OpenAPI annotation). */
const validateChatRequest = new Ajv({ allErrors: true, coerceTypes: false, keywords: ['example'] }).compile<OpenAiChatRequest>(OPENAI_CHAT_REQUEST_SCHEMA);

/**
 * Validates an OpenAI chat request body against OPENAI_CHAT_REQUEST_SCHEMA (unknown extra fields are accepted, as
 * OpenAI SDKs send them). @throws AppError 400 `request/bad_request` listing what is wrong, e.g.
 * `body/messages must NOT have fewer than 1 items`.
 */
export function parseOpenAiRequest(body: unknown): OpenAiChatRequest {
  if (validateChatRequest(body)) return body;
  const problems = (validateChatRequest.errors ?? []).map((e) => `body${e.instancePath} ${e.message ?? 'is invalid'}`);
  throw new AppError('request/bad_request', [...new Set(problems)].slice(0, 10).join('; '), 400);
}

/**
 * Maps a request that passed OPENAI_CHAT_REQUEST_SCHEMA to router messages (`developer` becomes `system`, text parts
 * are joined). @throws AppError 400 `request/bad_request` when joined parts exceed MAX_MESSAGE_CHARS.
 */
export function toChatMessages(req: OpenAiChatRequest): ChatMessage[] {
  return req.messages.map((m, i) => {
    const text = typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? m.content.map((p) => p.text).join('') : '';
    if (text.length > MAX_MESSAGE_CHARS) throw new AppError('request/bad_request', `messages[${i}].content is longer than ${MAX_MESSAGE_CHARS} characters`, 400);
    return { role: m.role === 'developer' ? 'system' : m.role, content: text };
  });
}

const created = () => Math.floor(Date.now() / 1000);

/**
 * OpenAI-compatible surface so any OpenAI SDK can use the router: `POST /v1/chat/completions` (JSON, or SSE with
 * `stream: true`) and `GET /v1/models`. Authenticated with our API keys (`Authorization: Bearer mck_...`).
 * Model `auto` (or any configured model name, or `provider/model`) selects the cascade.
 */
@ApiTags('openai-compatible')
@ApiBearerAuth()
@Controller('v1')
export class OpenAiCompatController {
  constructor(private readonly router: LlmRouterService) {}

  @Get('models')
  @ApiOperation({ summary: 'OpenAI-compatible model list: `auto` plus every configured model (owned_by = provider)' })
  @ApiOkResponse({ type: OpenAiModelListDto })
  @ApiErrors(401)
  models(): { object: 'list'; data: { id: string; object: 'model'; created: number; owned_by: string }[] } {
    const t = created();
    const data = [{ id: 'auto', object: 'model' as const, created: t, owned_by: 'llm-router' }];
    for (const p of this.router.engine.providers) {
      for (const m of p.cfg.models) data.push({ id: m.name, object: 'model', created: t, owned_by: p.cfg.name });
      if (defaultModel(p.cfg)) data.push({ id: `${p.cfg.name}/${defaultModel(p.cfg)}`, object: 'model', created: t, owned_by: p.cfg.name });
    }
    return { object: 'list', data };
  }

  @Post('chat/completions')
  @HttpCode(200)
  @Roles('operator', 'agent')
  @L402Priced('chat')
  @ApiOperation({
    summary: 'OpenAI-compatible chat completion through the cascade (stream: true => server-sent events)',
    description:
      'Streaming: failover happens only before the first token. If the serving provider fails after it, the stream ends ' +
      'with `data: {"error": {...}}` and no `[DONE]` (never a clean end).',
  })
  // one schema: compiled by ajv for validation (after the auth guard) and published in Swagger
  @ApiBody({ schema: OPENAI_CHAT_REQUEST_SCHEMA as never })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiExtraModels(OpenAiChatCompletionDto)
  @ApiOkResponse({
    description: 'chat.completion object, or (stream: true) a chat.completion.chunk SSE stream ending with [DONE]',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(OpenAiChatCompletionDto) } },
      'text/event-stream': { schema: { type: 'string', example: CHAT_COMPLETION_SSE_EXAMPLE } },
    },
  })
  @ApiErrors(400, 401, 403, 404, 503)
  async chat(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // read from the request, not through @Body(): parseOpenAiRequest (ajv) is the validation here, and a route with
    // no pipeable parameter skips Nest's per-request pipe pass
    const oai = parseOpenAiRequest(req.body);
    const messages = toChatMessages(oai);
    const res = reply.raw;
    const ac = abortOnClose(res);
    const routed = { messages, model: oai.model, temperature: oai.temperature, max_tokens: oai.max_completion_tokens ?? oai.max_tokens, signal: ac.signal };
    const id = `chatcmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
    if (!oai.stream) {
      const r = await this.router.complete(routed);
      void reply
        .status(200)
        .header('x-router-provider', r.provider)
        .header('x-router-attempts', String(r.attempts.filter((a) => a.outcome !== 'skipped').length))
        .send({
        id,
        object: 'chat.completion',
        created: created(),
        model: r.model,
        choices: [{ index: 0, message: { role: 'assistant', content: r.content }, finish_reason: r.finishReason ?? 'stop' }],
        usage: { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens, total_tokens: r.usage.totalTokens },
        router: { provider: r.provider, latencyMs: r.latencyMs, attempts: r.attempts },
      });
      return;
    }
    const includeUsage = oai.stream_options?.include_usage === true;
    let model = oai.model;
    let open = false;
    const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ id, object: 'chat.completion.chunk', created: created(), model, choices: [{ index: 0, delta, finish_reason: finish }] });
    try {
      for await (const ev of this.router.stream(routed)) {
        if (ev.type === 'start') {
          model = ev.model;
          // from here on the raw response is ours (Fastify steps aside); headers set by hooks (helmet) are carried over
          reply.hijack();
          res.writeHead(200, {
            ...(reply.getHeaders() as Record<string, string>),
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-transform',
            connection: 'keep-alive',
            'x-accel-buffering': 'no',
            'x-router-provider': ev.provider,
          });
          res.flushHeaders();
          open = true;
          send(chunk({ role: 'assistant', content: '' }, null));
        } else if (ev.type === 'delta') {
          send(chunk({ content: ev.text }, null));
        } else {
          const r = ev.result;
          send(chunk({}, r.finishReason ?? 'stop'));
          if (includeUsage) {
            send({ id, object: 'chat.completion.chunk', created: created(), model, choices: [], usage: { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens, total_tokens: r.usage.totalTokens } });
          }
          res.write('data: [DONE]\n\n');
          res.end();
          return;
        }
      }
    } catch (err) {
      if (!open) throw err; // before the first token: a normal JSON error (503 with attempts, 404, ...)
      const e = err instanceof StreamInterruptedError ? err : null;
      const message = e?.message ?? (err as Error)?.message ?? 'stream failed';
      // explicit error event, never a clean end: no [DONE] follows
      send({ error: { message, type: 'upstream_error', code: e?.code ?? 'router/stream_failed', provider: e?.provider ?? null } });
      res.end();
    }
  }
}
