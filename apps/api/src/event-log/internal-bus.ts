import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { EventEnvelope } from '@app/contracts';

/** A credential that stopped being valid: a revoked API key, an ended session, or every credential of a user. */
export interface CredentialRevoked {
  apiKeyId?: string;
  sessionId?: string;
  userId?: string;
}

/**
 * Names and payloads of the in-process bus (never on the wire). Modules add their own names by declaration merging:
 * `declare module '../event-log/internal-bus' { interface InternalBusMap { 'memory.reindexed': {...} } }`.
 */
export interface InternalBusMap {
  /** Persisted envelopes in seq order, published only after COMMIT (this instance's commits). */
  appended: EventEnvelope[];
  /** Retention removed every event with seq <= prunedThroughSeq. */
  pruned: { prunedThroughSeq: number };
  /** A key was revoked / a session ended / a user was disabled or changed password. */
  'credential-revoked': CredentialRevoked;
}

export type InternalBusName = keyof InternalBusMap;
export type InternalBusHandler<K extends InternalBusName> = (payload: InternalBusMap[K]) => void;

/** Prefix of the underlying EventEmitter2 names, so bus names never clash with anything else on the emitter. */
const PREFIX = 'bus:';

/**
 * The typed in-process bus over Nest's EventEmitter2: `emit(name, payload)` and `on(name, handler)` checked against
 * `InternalBusMap`. Handlers run synchronously in emit order; a handler that throws is isolated (logged by the
 * emitter's caller), so one listener cannot break the publisher. Not durable: work that must happen after a commit
 * uses a durable consumer (EventConsumersService) instead.
 */
@Injectable()
export class InternalBus {
  constructor(private readonly emitter: EventEmitter2) {}

  /** Publishes `payload` to every handler of `name`. Never throws: a failing handler is reported through `onError`. */
  emit<K extends InternalBusName>(name: K, payload: InternalBusMap[K], onError?: (err: unknown) => void): void {
    try {
      this.emitter.emit(PREFIX + name, payload);
    } catch (err) {
      onError?.(err);
    }
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends InternalBusName>(name: K, handler: InternalBusHandler<K>): () => void {
    const listener = (payload: InternalBusMap[K]) => handler(payload);
    this.emitter.on(PREFIX + name, listener);
    return () => {
      this.emitter.off(PREFIX + name, listener);
    };
  }
}
