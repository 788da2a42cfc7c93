import type { Logger } from '@nestjs/common';
import type { Namespace } from 'socket.io';
import { CLUSTER_BUS_NAMES, type ClusterBusName, type InternalBus, type InternalBusMap } from '../event-log/internal-bus';

/** Socket.IO server-side event that carries clustered bus messages between instances (never sent to clients). */
export const CLUSTER_BUS_EVENT = 'mc:bus';
/**
 * How long a relay waits for the other instances' acknowledgements (ms) before it logs and gives up; it is the Redis
 * adapter's `requestsTimeout`.
 */
export const CLUSTER_BUS_ACK_TIMEOUT_MS = 2000;

interface ClusterBusMessage {
  name: ClusterBusName;
  payload: InternalBusMap[ClusterBusName];
}

const isClusterBusName = (n: unknown): n is ClusterBusName => (CLUSTER_BUS_NAMES as readonly unknown[]).includes(n);

/**
 * Connects the internal bus of this instance to the other instances of the deployment through the Socket.IO
 * adapter (Redis, REDIS_URL): `bus.emitClustered(name, payload)` is sent with `serverSideEmit` and resolves when
 * every other instance has applied it to its own bus (acknowledgement), or after CLUSTER_BUS_ACK_TIMEOUT_MS with a
 * warning naming how many answered. Messages received from other instances are emitted locally with `bus.emit`
 * (never relayed again). Socket.IO reference: "Server API / serverSideEmit" (acknowledgements since 4.5).
 * @returns a function that detaches the relay.
 */
export function attachClusterBus(nsp: Namespace, bus: InternalBus, logger: Logger): () => void {
  const onMessage = (msg: ClusterBusMessage, ack?: (reply: 'ok') => void) => {
    if (msg && isClusterBusName(msg.name) && msg.payload && typeof msg.payload === 'object') bus.emit(msg.name, msg.payload);
    if (typeof ack === 'function') ack('ok');
  };
  // server-side events are not in the namespace's client event map
  (nsp as unknown as { on(ev: string, fn: typeof onMessage): void }).on(CLUSTER_BUS_EVENT, onMessage);
  bus.setClusterRelay(
    (name, payload) =>
      new Promise<void>((resolve) => {
        // the adapter's requestsTimeout (CLUSTER_BUS_ACK_TIMEOUT_MS, set in RealtimeIoAdapter) bounds the wait
        nsp.serverSideEmit(CLUSTER_BUS_EVENT, { name, payload } satisfies ClusterBusMessage, (err: Error | null, replies: unknown[]) => {
          if (err) logger.warn(`cluster bus: ${name} not acknowledged by every instance within ${CLUSTER_BUS_ACK_TIMEOUT_MS} ms (${replies?.length ?? 0} answered)`);
          resolve();
        });
      }),
  );
  return () => {
    bus.setClusterRelay(null);
    (nsp as unknown as { off(ev: string, fn: typeof onMessage): void }).off(CLUSTER_BUS_EVENT, onMessage);
  };
}
