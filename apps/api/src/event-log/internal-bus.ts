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
  /** A user's role changed: forget cached credentials of that user (sockets stay connected). */
  'credential-changed': { userId: string };
}

/** Bus names that `emitClustered` relays to the other instances of the deployment (plain JSON payloads). */
export const CLUSTER_BUS_NAMES = ['credential-revoked', 'credential-changed'] as const;
export type ClusterBusName = (typeof CLUSTER_BUS_NAMES)[number];

/**
 * Carries a clustered bus message to every other instance and resolves once they have applied it, or once the
 * relay's own timeout passed (an instance that does not answer is logged, never waited for forever). Set by the
 * realtime module when REDIS_URL is configured (Socket.IO `serverSideEmit` with acknowledgements).
 */
export type ClusterRelay = (name: ClusterBusName, payload: InternalBusMap[ClusterBusName]) => Promise<void>;

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
  private relay: ClusterRelay | null = null;

  constructor(private readonly emitter: EventEmitter2) {}

  /** Installs (or, with null, removes) the relay that `emitClustered` awaits; one per process. */
  setClusterRelay(relay: ClusterRelay | null): void {
    this.relay = relay;
  }

  /**
   * Publishes on this instance (like `emit`), then relays the message to the other instances and resolves once they
   * applied it, so a revocation holds everywhere when the call that caused it returns. Without a relay (one
   * instance, no REDIS_URL) it resolves at once. Never rejects.
   */
  async emitClustered<K extends ClusterBusName>(name: K, payload: InternalBusMap[K], onError?: (err: unknown) => void): Promise<void> {
    this.emit(name, payload, onError);
    if (!this.relay) return;
    try {
      await this.relay(name, payload);
    } catch (err) {
      onError?.(err);
    }
  }

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
