import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EventLogModule } from '../event-log/event-log.module';

/** Agents, tasks, auctions, personas, messages and operator questions. Exports SwarmService. */
@Module({ imports: [EventLogModule, AuthModule] })
export class SwarmModule {}
