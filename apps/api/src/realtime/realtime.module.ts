import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EventLogModule } from '../event-log/event-log.module';
import { RealtimeGateway } from './realtime.gateway';

/** Fans the event log out to Socket.IO rooms on namespace /live. Domain modules never import it. */
@Module({ imports: [EventLogModule, AuthModule], providers: [RealtimeGateway], exports: [] })
export class RealtimeModule {}
