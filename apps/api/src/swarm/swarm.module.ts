import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module';
import { AuthModule } from '../auth/auth.module';
import { EventLogModule } from '../event-log/event-log.module';
import { LlmPersonaExecutor } from './personas/llm-persona-executor';
import { MemoryModule } from '../memory/memory.module';
import { LlmRouterModule } from '../llm-router/llm-router.module';
import { AgentsController } from './agents/agents.controller';
import { PersonasController } from './personas/personas.controller';
import { SwarmController } from './swarm.controller';
import { AgentsService } from './agents/agents.service';
import { MessagesController } from './messages/messages.controller';
import { QuestionsController } from './questions/questions.controller';
import { MessagesService } from './messages/messages.service';
import { PERSONA_EXECUTOR } from './personas/persona-executor';
import { PersonasService } from './personas/personas.service';
import { QuestionsService } from './questions/questions.service';
import { SwarmService } from './swarm.service';
import { TasksController } from './tasks/tasks.controller';
import { TasksService } from './tasks/tasks.service';

/**
 * Agents, tasks, auctions, personas, messages and operator questions. Exports SwarmService, TasksService and
 * AgentsService and MessagesService (`sendInTx`). Personas do their work through the LLM router (`PERSONA_EXECUTOR` = LlmPersonaExecutor).
 */
@Module({
  imports: [EventLogModule, AuthModule, LlmRouterModule, MemoryModule, LedgerModule],
  controllers: [AgentsController, PersonasController, SwarmController, TasksController, MessagesController, QuestionsController],
  providers: [
    AgentsService,
    TasksService,
    PersonasService,
    MessagesService,
    QuestionsService,
    SwarmService,
    LlmPersonaExecutor,
    { provide: PERSONA_EXECUTOR, useExisting: LlmPersonaExecutor },
  ],
  exports: [SwarmService, TasksService, AgentsService, MessagesService],
})
export class SwarmModule {}
