import { Global, Module } from '@nestjs/common';
import { EventLogModule } from '../event-log/event-log.module';
import { InstanceRegistry } from './instance-registry';

/** Instance leases (ADR 0061), global: modules that own per-instance work register a reclaim handler on it. */
@Global()
@Module({ imports: [EventLogModule], providers: [InstanceRegistry], exports: [InstanceRegistry] })
export class ClusterModule {}
