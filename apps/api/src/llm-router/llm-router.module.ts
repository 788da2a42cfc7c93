import { Module } from '@nestjs/common';
import { EventLogModule } from '../event-log/event-log.module';
import { LlmPersonaExecutor } from './llm-persona-executor';
import { LlmRouterController } from './llm-router.controller';
import { LlmRouterService } from './llm-router.service';
import { MetricsController } from './metrics.controller';
import { OpenAiCompatController } from './openai-compat.controller';
import { RouterPromMetrics } from './router-prom.metrics';

/**
 * The cascade LLM router: `/api/router/*`, OpenAI-compatible `/v1/*`, Prometheus `/metrics`.
 * Exports `LlmRouterService` (the one way to call an LLM), `RouterPromMetrics` (the process registry) and
 * `LlmPersonaExecutor` (bind it to the swarm's PERSONA_EXECUTOR token).
 */
@Module({
  imports: [EventLogModule],
  controllers: [LlmRouterController, OpenAiCompatController, MetricsController],
  providers: [LlmRouterService, RouterPromMetrics, LlmPersonaExecutor],
  exports: [LlmRouterService, RouterPromMetrics, LlmPersonaExecutor],
})
export class LlmRouterModule {}
