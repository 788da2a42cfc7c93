import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EventLogModule } from '../event-log/event-log.module';

/** Fans the event log out to Socket.IO rooms on namespace /live. */
@Module({ imports: [EventLogModule, AuthModule], providers: [] })
export class RealtimeModule {}
