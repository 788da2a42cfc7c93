import type { EventEnvelope, NewEvent } from '@app/contracts';
import type { EntityManager } from 'typeorm';

/**
 * What a unit of work gets inside a group-committed transaction: the transaction's EntityManager for its
 * state change, and `append` for the events that describe it. Both commit together or not at all.
 */
export interface WriteContext {
  manager: EntityManager;
  append(event: NewEvent): void;
}

export type UnitOfWork<T> = (tx: WriteContext) => Promise<T> | T;

export interface WriteResult<T> {
  result: T;
  /** The unit's events as persisted (with seq), in seq order. */
  events: EventEnvelope[];
}

/** A read filter over the log used by replay, listing and export. All given fields are ANDed. */
export interface EventFilter {
  types?: readonly string[];
  source?: string;
  agentId?: string;
  taskId?: string;
  channels?: readonly string[];
  excludeChannels?: readonly string[];
  /** Types left out (`type NOT IN`). */
  excludeTypes?: readonly string[];
  from?: string;
  to?: string;
  /** seq > after */
  after?: number;
  /** seq < before */
  before?: number;
}
