import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EventLogModule } from '../event-log/event-log.module';
import { AgentsController, PersonasController, SwarmController } from './agents.controller';
import { AgentsService } from './agents.service';
import { MessagesController, QuestionsController } from './messages.controller';
import { MessagesService } from './messages.service';
import { PERSONA_EXECUTOR, PlaceholderPersonaExecutor } from './persona-executor';
import { PersonasService } from './personas.service';
import { QuestionsService } from './questions.service';
import { SwarmService } from './swarm.service';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

/**
 * Agents, tasks, auctions, personas, messages and operator questions. Exports SwarmService, TasksService and
 * AgentsService. `PERSONA_EXECUTOR` defaults to the placeholder executor; the LLM router rebinds it.
 */
@Module({
  imports: [EventLogModule, AuthModule],
  controllers: [AgentsController, PersonasController, SwarmController, TasksController, MessagesController, QuestionsController],
  providers: [
    AgentsService,
    TasksService,
    PersonasService,
    MessagesService,
    QuestionsService,
    SwarmService,
    { provide: PERSONA_EXECUTOR, useClass: PlaceholderPersonaExecutor },
  ],
  exports: [SwarmService, TasksService, AgentsService],
})
export class SwarmModule {}
