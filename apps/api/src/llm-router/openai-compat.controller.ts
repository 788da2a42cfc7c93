import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateNested, validateSync } from 'class-validator';
import { Type } from 'class-transformer';
import type { Request, Response } from 'express';
import { AppError } from '../common/app-error';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { Roles } from '../common/decorators/auth.decorators';
import { StreamInterruptedError } from './cascade-engine';
import { CHAT_COMPLETION_SSE_EXAMPLE, OpenAiChatCompletionDto, OpenAiModelListDto } from './dto/router-responses.dto';
import { MAX_MESSAGE_CHARS, MAX_MESSAGES, MAX_TOKENS_LIMIT } from './dto/router.dto';
import { abortOnClose } from './llm-router.controller';
import { LlmRouterService } from './llm-router.service';
import type { ChatMessage } from './llm-router.types';
import { defaultModel } from './providers-config';

class OaiMessage {
  @IsIn(['system', 'user', 'assistant', 'developer'])
  role: 'system' | 'user' | 'assistant' | 'developer';

  /** A string, or an array of `{type:'text', text}` parts (joined). */
  @IsOptional()
  content: unknown;
}

class OaiChatRequest {
  @IsString() @MinLength(1) @MaxLength(200)
  model: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_MESSAGES) @ValidateNested({ each: true }) @Type(() => OaiMessage)
  messages: OaiMessage[];

  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(2)
  temperature?: number;

  @IsOptional() @IsInt() @Min(1) @Max(MAX_TOKENS_LIMIT)
  max_tokens?: number;

  @IsOptional() @IsInt() @Min(1) @Max(MAX_TOKENS_LIMIT)
  max_completion_tokens?: number;

  @IsOptional() @IsBoolean()
  stream?: boolean;

  @IsOptional()
  stream_options?: { include_usage?: boolean };

  @IsOptional() @IsInt() @Min(1) @Max(1)
  n?: number;
}

function textOf(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.map((p) => (p && typeof p === 'object' && (p as { type?: unknown }).type === 'text' ? (p as { text?: unknown }).text : undefined));
    if (parts.every((t) => typeof t === 'string')) return (parts as string[]).join('');
  }
  throw new AppError('request/bad_request', `messages[${i}].content must be a string or an array of text parts`, 400);
}

/** Validates an OpenAI chat request (unknown extra fields are accepted, as OpenAI SDKs send them). @throws AppError 400 */
export function parseOpenAiRequest(body: unknown): { req: OaiChatRequest; messages: ChatMessage[] } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AppError('request/bad_request', 'Body must be a JSON object', 400);
  const req = plainToInstance(OaiChatRequest, body);
  const errors = validateSync(req, { whitelist: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    const flat = (es: typeof errors, prefix = ''): string[] =>
      es.flatMap((e) => [
        ...Object.values(e.constraints ?? {}).map((m) => `${prefix}${m}`),
        ...flat(e.children ?? [], `${prefix}${e.property}.`),
      ]);
    throw new AppError('request/bad_request', flat(errors).join('; '), 400);
  }
  const messages = req.messages.map((m, i) => {
    const text = textOf(m.content, i);
    if (text.length > MAX_MESSAGE_CHARS) throw new AppError('request/bad_request', `messages[${i}].content is longer than ${MAX_MESSAGE_CHARS} characters`, 400);
    return { role: m.role === 'developer' ? 'system' : m.role, content: text } as ChatMessage;
  });
  return { req, messages };
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
  @ApiOperation({
    summary: 'OpenAI-compatible chat completion through the cascade (stream: true => server-sent events)',
    description:
      'Streaming: failover happens only before the first token. If the serving provider fails after it, the stream ends ' +
      'with `data: {"error": {...}}` and no `[DONE]` (never a clean end).',
  })
  @ApiBody({ schema: { type: 'object', required: ['model', 'messages'], properties: { model: { type: 'string', example: 'auto' }, messages: { type: 'array', items: { type: 'object' } }, temperature: { type: 'number' }, max_tokens: { type: 'integer' }, stream: { type: 'boolean' } } } })
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
  async chat(@Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { req: oai, messages } = parseOpenAiRequest(body);
    const ac = abortOnClose(req, res);
    const routed = { messages, model: oai.model, temperature: oai.temperature, max_tokens: oai.max_completion_tokens ?? oai.max_tokens, signal: ac.signal };
    const id = `chatcmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
    if (!oai.stream) {
      const r = await this.router.complete(routed);
      res.setHeader('x-router-provider', r.provider);
      res.setHeader('x-router-attempts', String(r.attempts.filter((a) => a.outcome !== 'skipped').length));
      res.status(200).json({
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
          res.status(200);
          res.setHeader('content-type', 'text/event-stream; charset=utf-8');
          res.setHeader('cache-control', 'no-cache, no-transform');
          res.setHeader('connection', 'keep-alive');
          res.setHeader('x-accel-buffering', 'no');
          res.setHeader('x-router-provider', ev.provider);
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
