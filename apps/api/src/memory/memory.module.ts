import { Module } from '@nestjs/common';
import { EventLogModule } from '../event-log/event-log.module';
import { MemoryController } from './memory.controller';
import { MemoryService } from './memory.service';

/** Semantic memory (`memory_entries`, FTS/vector indexes, channel `memory`). Exports `MemoryService` only. */
@Module({
  imports: [EventLogModule],
  controllers: [MemoryController],
  providers: [MemoryService],
  exports: [MemoryService],
})
export class MemoryModule {}
