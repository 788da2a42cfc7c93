import { Module } from '@nestjs/common';
import { EventLogModule } from '../event-log/event-log.module';
import { LlmRouterModule } from '../llm-router/llm-router.module';
import { SwarmModule } from '../swarm/swarm.module';
import { OtelTaskTracesService } from './otel-task-traces.service';

/**
 * OpenTelemetry export of task traces (GenAI spans over OTLP/HTTP). AppModule imports it only when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.
 */
@Module({
  imports: [EventLogModule, LlmRouterModule, SwarmModule],
  providers: [OtelTaskTracesService],
})
export class TelemetryModule {}
