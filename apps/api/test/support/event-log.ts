import type { INestApplication } from '@nestjs/common';
import type { EventEnvelope, EventType } from '@app/contracts';
import type { WriteContext } from '../../src/event-log/event-log.types';
import { EventConsumersService } from '../../src/event-log/consumers/event-consumers.service';
import { EventLogReader } from '../../src/event-log/event-log.reader';
import { EventLogWriter } from '../../src/event-log/event-log.writer';
import { EventChainVerifier } from '../../src/event-log/hash-chain/event-chain.verifier';
import { InternalBus } from '../../src/event-log/internal-bus';
import { EventPruner } from '../../src/event-log/retention/event-pruner';

/**
 * Tests write arbitrary payloads (the log checks shape, not the catalogue's payload types, at run time) and read
 * fields of any type: envelopes and new events with `data` as a plain record.
 */
export type LooseEnvelope = Omit<EventEnvelope, 'type' | 'data'> & { type: EventType; data: Record<string, unknown> };
export interface LooseNewEvent {
  type: EventType;
  source: string;
  taskId?: string | null;
  agentId?: string | null;
  data?: Record<string, unknown>;
}
export interface LooseWriteContext {
  manager: WriteContext['manager'];
  append(event: LooseNewEvent): void;
}

/** The event log's write and read sides of a test app in one object (tests use both on the same log). */
export type TestEventLog = Pick<EventLogWriter, 'drain'> &
  Pick<EventLogReader, 'getHeadSeq' | 'getPrunedThroughSeq' | 'count' | 'summary'> & {
    write<T>(work: (tx: LooseWriteContext) => Promise<T> | T): Promise<T>;
    writeWithEvents<T>(work: (tx: LooseWriteContext) => Promise<T> | T): Promise<{ result: T; events: LooseEnvelope[] }>;
    append(events: LooseNewEvent[]): Promise<LooseEnvelope[]>;
    getById(id: string): Promise<LooseEnvelope>;
    find(...args: Parameters<EventLogReader['find']>): Promise<LooseEnvelope[]>;
    iterate(...args: Parameters<EventLogReader['iterate']>): AsyncGenerator<LooseEnvelope>;
    readonly epoch: string;
    prune: EventPruner['prune'];
    bus: InternalBus;
    chain: EventChainVerifier;
    consumers: EventConsumersService;
  };

/** Binds the writer, reader, pruner, bus, chain verifier and consumers of `app`. */
export function eventLog(app: INestApplication): TestEventLog {
  const w = app.get(EventLogWriter);
  const r = app.get(EventLogReader);
  const pruner = app.get(EventPruner);
  return {
    write: w.write.bind(w) as TestEventLog['write'],
    writeWithEvents: w.writeWithEvents.bind(w) as unknown as TestEventLog['writeWithEvents'],
    append: w.append.bind(w) as unknown as TestEventLog['append'],
    drain: w.drain.bind(w),
    getHeadSeq: r.getHeadSeq.bind(r),
    getPrunedThroughSeq: r.getPrunedThroughSeq.bind(r),
    getById: r.getById.bind(r) as unknown as TestEventLog['getById'],
    find: r.find.bind(r) as unknown as TestEventLog['find'],
    count: r.count.bind(r),
    iterate: r.iterate.bind(r) as unknown as TestEventLog['iterate'],
    summary: r.summary.bind(r),
    get epoch() {
      return r.epoch;
    },
    prune: pruner.prune.bind(pruner),
    bus: app.get(InternalBus),
    chain: app.get(EventChainVerifier),
    consumers: app.get(EventConsumersService),
  };
}
