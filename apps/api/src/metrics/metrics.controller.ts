import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { PROMETHEUS_METRICS_EXAMPLE } from './metrics.constants';
import { MetricsRegistry } from './metrics.registry';

/** Prometheus exposition of the process (every module's metrics + Node defaults). Needs auth like every non-health route. */
@ApiTags('metrics')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly prom: MetricsRegistry) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format); scrape with `Authorization: Bearer mck_...`' })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text format 0.0.4',
    content: { 'text/plain': { schema: { type: 'string', example: PROMETHEUS_METRICS_EXAMPLE } } },
  })
  @ApiErrors(401)
  async metrics(@Res({ passthrough: true }) res: FastifyReply): Promise<string> {
    const body = await this.prom.registry.metrics();
    void res.header('content-type', this.prom.registry.contentType);
    return body;
  }
}
