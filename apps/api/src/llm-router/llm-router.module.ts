import { Module } from '@nestjs/common';
import { EventLogModule } from '../event-log/event-log.module';
import { LlmRouterController } from './llm-router.controller';
import { LlmRouterService } from './llm-router.service';
import { OpenAiCompatController } from './openai-compat.controller';
import { RouterPromMetrics } from './router-prom.metrics';

/**
 * The cascade LLM router: `/api/router/*`, OpenAI-compatible `/v1/*`; its metrics go to the `metrics` module's registry.
 * Exports `LlmRouterService`, the one way to call an LLM (the swarm's persona executor calls it).
 */
@Module({
  imports: [EventLogModule],
  controllers: [LlmRouterController, OpenAiCompatController],
  providers: [LlmRouterService, RouterPromMetrics],
  exports: [LlmRouterService],
})
export class LlmRouterModule {}
