import { Module } from '@nestjs/common';
import { EventLogController } from './event-log.controller';
import { EventLogService } from './event-log.service';
import { EventRetentionService } from './event-retention.service';

/** The durable event spine: `event_log` + `meta`. Exports its service only. */
@Module({
  controllers: [EventLogController],
  providers: [EventLogService, EventRetentionService],
  exports: [EventLogService],
})
export class EventLogModule {}
