import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { RouterConfigDto, RouterControlResponse, RouterMetricsDto, RouterProviderDto, RouterStatusDto } from '@app/contracts';
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { Roles } from '../common/decorators/auth.decorators';
import {
  RouterConfigResponseDto,
  RouterControlResponseDto,
  RouterMetricsResponseDto,
  RouterProviderResponseDto,
  RouterStatusResponseDto,
} from './dto/router-responses.dto';
import { RouterCompleteDto, RouterCompleteResponseDto, RouterControlDto } from './dto/router.dto';
import { LlmRouterService } from './llm-router.service';
import type { CompletionResult } from './llm-router.types';

/**
 * Aborts when the client goes away before the response is written: a Node `ServerResponse` emits `close` both after
 * it finished and when the connection closed early; only the second aborts.
 */
export function abortOnClose(res: ServerResponse): AbortController {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac;
}

/** `/api/router`: routed completions, status, metrics, providers, config (no secrets) and operator controls. */
@ApiTags('router')
@ApiBearerAuth()
@ApiCookieAuth('mc_session')
@Controller('api/router')
export class LlmRouterController {
  constructor(private readonly router: LlmRouterService) {}

  @Post('complete')
  @HttpCode(200)
  @Roles('operator', 'agent')
  @ApiOperation({
    summary: 'Route a chat completion through the provider cascade',
    description:
      'Tries providers in priority order (local first; cloud only with allow_cloud_fallback), retrying retryable failures ' +
      'with backoff and skipping providers whose circuit is open. 503 `router/all_providers_failed` carries `details.attempts`.',
  })
  @ApiOkResponse({ type: RouterCompleteResponseDto })
  @ApiErrors(400, 401, 403, 404, 503)
  async complete(@Body() dto: RouterCompleteDto, @Res({ passthrough: true }) res: FastifyReply): Promise<CompletionResult> {
    const ac = abortOnClose(res.raw);
    const r = await this.router.complete({ messages: dto.messages, model: dto.model, temperature: dto.temperature, max_tokens: dto.max_tokens, signal: ac.signal });
    void res.header('x-router-provider', r.provider);
    void res.header('x-router-attempts', String(r.attempts.filter((a) => a.outcome !== 'skipped').length));
    const { finishReason: _omit, ...body } = r;
    return body;
  }

  @Get('status')
  @ApiOperation({ summary: 'Provider counts by status, the preferred provider, budget, and every provider (no secrets)' })
  @ApiOkResponse({ type: RouterStatusResponseDto })
  @ApiErrors(401)
  status(): Promise<RouterStatusDto> {
    return this.router.status();
  }

  @Get('metrics')
  @ApiOperation({ summary: 'Per-provider metrics (requests, error rate, p50/p95/p99 ms, tokens, cost) and latency series' })
  @ApiOkResponse({ type: RouterMetricsResponseDto })
  @ApiErrors(401)
  metrics(): Promise<RouterMetricsDto> {
    return this.router.metrics();
  }

  @Get('providers')
  @ApiOperation({ summary: 'Configured providers with status, circuit state and metrics (no API keys)' })
  @ApiOkResponse({ type: [RouterProviderResponseDto] })
  @ApiErrors(401)
  providers(): RouterProviderDto[] {
    return this.router.providers();
  }

  @Get('config')
  @ApiOperation({ summary: 'Effective cascade configuration (no secrets)' })
  @ApiOkResponse({ type: RouterConfigResponseDto })
  @ApiErrors(401)
  config(): RouterConfigDto {
    return this.router.configDto();
  }

  @Post('providers/:name/control')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Operator control: enable, disable, reset_circuit, probe' })
  @ApiParam({ name: 'name', description: 'Provider name' })
  @ApiOkResponse({ type: RouterControlResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  control(@Param('name') name: string, @Body() dto: RouterControlDto): Promise<RouterControlResponse> {
    return this.router.control(name, dto.action);
  }
}
