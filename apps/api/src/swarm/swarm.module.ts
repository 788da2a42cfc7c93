import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EventLogModule } from '../event-log/event-log.module';
import { LlmPersonaExecutor } from '../llm-router/llm-persona-executor';
import { LlmRouterModule } from '../llm-router/llm-router.module';
import { AgentsController, PersonasController, SwarmController } from './agents.controller';
import { AgentsService } from './agents.service';
import { MessagesController, QuestionsController } from './messages.controller';
import { MessagesService } from './messages.service';
import { PERSONA_EXECUTOR } from './persona-executor';
import { PersonasService } from './personas.service';
import { QuestionsService } from './questions.service';
import { SwarmService } from './swarm.service';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

/**
 * Agents, tasks, auctions, personas, messages and operator questions. Exports SwarmService, TasksService and
 * AgentsService. Personas do their work through the LLM router (`PERSONA_EXECUTOR` = LlmPersonaExecutor).
 */
@Module({
  imports: [EventLogModule, AuthModule, LlmRouterModule],
  controllers: [AgentsController, PersonasController, SwarmController, TasksController, MessagesController, QuestionsController],
  providers: [
    AgentsService,
    TasksService,
    PersonasService,
    MessagesService,
    QuestionsService,
    SwarmService,
    { provide: PERSONA_EXECUTOR, useExisting: LlmPersonaExecutor },
  ],
  exports: [SwarmService, TasksService, AgentsService],
})
export class SwarmModule {}
