import { Module } from '@nestjs/common';
import { InstanceRegistry } from '../cluster/instance-registry';
import { EventConsumersService } from './consumers/event-consumers.service';
import { EventLogController } from './event-log.controller';
import { EventLogReader } from './event-log.reader';
import { EventLogWriter } from './event-log.writer';
import { EventChainVerifier } from './hash-chain/event-chain.verifier';
import { InternalBus } from './internal-bus';
import { EventPruner } from './retention/event-pruner';
import { EventRetentionService } from './retention/event-retention.service';

/**
 * The durable event spine: `event_log` + `meta` + `event_consumers`. Exports the writer (units of work, group
 * commit), the reader, the typed internal bus, durable consumers, the chain verifier and the instance registry
 * (instance leases, ADR 0061: the consumers' lease owner is the instance); never a repository.
 */
@Module({
  controllers: [EventLogController],
  providers: [EventLogWriter, EventLogReader, InternalBus, EventPruner, EventRetentionService, EventConsumersService, EventChainVerifier, InstanceRegistry],
  exports: [EventLogWriter, EventLogReader, InternalBus, EventConsumersService, EventChainVerifier, EventPruner, InstanceRegistry],
})
export class EventLogModule {}
