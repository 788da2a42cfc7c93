import { createContext, useContext, useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { io } from 'socket.io-client';
import { REALTIME_NAMESPACE } from '@app/contracts';
import { RealtimeClient, type ChannelListener, type ChannelSubscription, type ConnectionState, type RealtimeSocket } from './realtime';

const RealtimeContext = createContext<RealtimeClient | null>(null);

type RealtimeProviderProps = {
  children: ReactNode;
  /** Called when the socket handshake is refused (for instance to recheck the session). */
  onConnectError?: (err: unknown) => void;
  /** Injected client (tests); by default one socket to `/live` authenticated by the session cookie. */
  client?: RealtimeClient;
};

/**
 * Owns the one Socket.IO connection of the signed-in app. Reconnect checks run when the tab becomes visible
 * again or the browser comes back online (phones suspend sockets in the background).
 */
export function RealtimeProvider({ children, onConnectError, client: injected }: RealtimeProviderProps) {
  const errorRef = useRef(onConnectError);
  useEffect(() => {
    errorRef.current = onConnectError;
  });
  const [client] = useState(
    () =>
      injected ??
      new RealtimeClient(
        io(REALTIME_NAMESPACE, {
          withCredentials: true,
          transports: ['websocket', 'polling'],
          autoConnect: false,
        }) as unknown as RealtimeSocket,
        { onConnectError: (err) => errorRef.current?.(err) },
      ),
  );

  useEffect(() => {
    client.start();
    const handleWake = () => {
      if (document.visibilityState === 'visible') client.checkConnection();
    };
    document.addEventListener('visibilitychange', handleWake);
    window.addEventListener('online', handleWake);
    window.addEventListener('pageshow', handleWake);
    return () => {
      document.removeEventListener('visibilitychange', handleWake);
      window.removeEventListener('online', handleWake);
      window.removeEventListener('pageshow', handleWake);
      client.stop();
    };
  }, [client]);

  return <RealtimeContext.Provider value={client}>{children}</RealtimeContext.Provider>;
}

/** The realtime client of the nearest provider. */
export function useRealtime(): RealtimeClient {
  const client = useContext(RealtimeContext);
  if (!client) throw new Error('useRealtime must be used inside <RealtimeProvider>');
  return client;
}

/** The socket's connection state, re-rendering on change. */
export function useConnectionState(): ConnectionState {
  const client = useRealtime();
  return useSyncExternalStore(
    (fn) => client.onStateChange(fn),
    () => client.getState(),
    () => client.getState(),
  );
}

/**
 * Subscribes to a channel for the lifetime of the component (mount it once per page, in the feature's
 * `use<Feature>LiveUpdates` hook). The latest `listener` is always used.
 * @returns the subscription once made (null before the first effect), for `setBaseline`.
 */
export function useChannel(channel: string | null, listener: ChannelListener): ChannelSubscription | null {
  const client = useRealtime();
  const ref = useRef(listener);
  useEffect(() => {
    ref.current = listener;
  });
  const [sub, setSub] = useState<ChannelSubscription | null>(null);
  useEffect(() => {
    if (!channel) return;
    const s = client.subscribe(channel, {
      onEvents: (events) => ref.current.onEvents(events),
      onGap: (info) => ref.current.onGap?.(info),
    });
    setSub(s);
    return () => {
      s.unsubscribe();
      setSub(null);
    };
  }, [client, channel]);
  return sub;
}

/** A snapshot response stamped with a unique id, so live patches of the cached data are not taken for a refetch. */
export type Snapshot<T> = T & { headSeq: number; epoch?: string; snapshotId: number };

let snapshotCounter = 0;

/** Stamps a freshly fetched snapshot (call it in the queryFn). */
export function stampSnapshot<T extends { headSeq: number; epoch?: string }>(data: T): Snapshot<T> {
  snapshotCounter += 1;
  return { ...data, snapshotId: snapshotCounter };
}

/** Tells the channel subscription which snapshot the feature holds, each time a new one is fetched. */
export function useBaseline(sub: ChannelSubscription | null, snapshot: Snapshot<object> | undefined): void {
  const snapshotId = snapshot?.snapshotId;
  const headSeq = snapshot?.headSeq;
  const epoch = snapshot?.epoch;
  useEffect(() => {
    if (sub && snapshotId !== undefined && headSeq !== undefined) sub.setBaseline(headSeq, epoch);
  }, [sub, snapshotId, headSeq, epoch]);
}
