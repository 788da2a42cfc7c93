import type { EventEnvelope, GapNotice, SubscribeAck, SubscribeRequest } from '@app/contracts';

/**
 * The one realtime client of the dashboard (BRIEF section 5).
 *
 * - Keeps, per channel, the epoch and per listener the last delivered `seq`.
 * - On every (re)connect it resubscribes each channel with `since` = the lowest cursor of its listeners, so the
 *   server replays what was missed; frames are de-duplicated by `seq` (at-least-once delivery becomes exactly-once,
 *   in order, per listener).
 * - A listener starts "awaiting" its snapshot: frames are buffered until the feature calls `setBaseline(headSeq)`
 *   with the `headSeq` of its snapshot response; buffered and later frames with `seq <= headSeq` are dropped.
 * - `gap: true` in a subscribe ack, or a `gap` notice, resets the channel's listeners and calls `onGap` so the
 *   feature refetches its snapshot (and then calls `setBaseline` again).
 * - Exposes the connection state: `connecting` (never connected yet), `live`, `reconnecting`.
 */

export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

/** The part of a socket.io-client `Socket` the client uses (a fake implements it in tests). */
export interface RealtimeSocket {
  readonly connected: boolean;
  /** socket.io: false once the server refused the connection (no automatic reconnection then). */
  readonly active?: boolean;
  on(event: string, fn: (...args: never[]) => void): unknown;
  off(event: string, fn?: (...args: never[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  emitWithAck(event: string, ...args: unknown[]): Promise<unknown>;
  /** socket.io: a view of the socket whose acks reject after `ms`. */
  timeout?(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  connect(): unknown;
  disconnect(): unknown;
}

export interface GapInfo {
  channel: string;
  /** `ack` when a subscribe ack said gap, else the notice's reason. */
  reason: 'ack' | GapNotice['reason'];
  headSeq: number;
  epoch: string;
}

/** What a feature hands to `subscribe`. */
export interface ChannelListener {
  /** New envelopes, strictly increasing `seq`, each delivered once. */
  onEvents(events: EventEnvelope[]): void;
  /** The cursor cannot be honoured: refetch the snapshot, then call `setBaseline`. */
  onGap?(info: GapInfo): void;
}

/** A feature's handle on one channel. */
export interface ChannelSubscription {
  readonly channel: string;
  /**
   * Declares the snapshot the feature holds: `headSeq` is the `headSeq` of the snapshot response (read before the
   * snapshot), `epoch` its epoch. Frames with `seq <= headSeq` are dropped; buffered newer frames are delivered.
   */
  setBaseline(headSeq: number, epoch?: string): void;
  unsubscribe(): void;
}

export interface RealtimeClientOptions {
  /** Ack timeout for subscribe (ms). */
  ackTimeoutMs?: number;
  /** Max frames kept per listener while it awaits its snapshot. */
  maxBuffer?: number;
  /** Backoff for manual reconnects after the server refused the handshake (ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Called on `connect_error` (for instance to recheck the session). */
  onConnectError?: (err: unknown) => void;
  /** Called when a subscribe is refused (`ok: false`). */
  onSubscribeError?: (channel: string, code: string, message: string) => void;
}

interface ListenerState {
  listener: ChannelListener;
  /** Last delivered seq; null while awaiting a baseline (snapshot). */
  lastSeq: number | null;
  /** True while frames are buffered (no baseline yet, or catching up by replay). */
  awaiting: boolean;
  buffer: EventEnvelope[];
}

interface ChannelState {
  name: string;
  listeners: Set<ListenerState>;
  epoch: string | null;
  /** Every event with seq > coveredFrom is delivered by the current server subscription; null = not subscribed. */
  coveredFrom: number | null;
  /** Incremented on each subscribe so stale acks are ignored. */
  generation: number;
}

const DEFAULTS = { ackTimeoutMs: 10_000, maxBuffer: 5_000, retryMinMs: 1_000, retryMaxMs: 30_000 };

/** Sorts a frame by seq and removes in-frame duplicates (does not mutate the input). */
export function orderFrame(events: readonly EventEnvelope[]): EventEnvelope[] {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  return sorted.filter((e, i) => i === 0 || e.seq !== sorted[i - 1].seq);
}

export class RealtimeClient {
  private readonly channels = new Map<string, ChannelState>();
  private readonly stateListeners = new Set<() => void>();
  private readonly opts: typeof DEFAULTS & RealtimeClientOptions;
  private state: ConnectionState = 'connecting';
  private everConnected = false;
  private started = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryDelay: number;

  constructor(
    private readonly socket: RealtimeSocket,
    options: RealtimeClientOptions = {},
  ) {
    this.opts = { ...DEFAULTS, ...options };
    this.retryDelay = this.opts.retryMinMs;
  }

  /** Attaches the socket handlers and connects. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.socket.on('connect', this.handleConnect);
    this.socket.on('disconnect', this.handleDisconnect);
    this.socket.on('connect_error', this.handleConnectError);
    this.socket.on('events', this.handleEvents);
    this.socket.on('gap', this.handleGapNotice);
    if (this.socket.connected) this.handleConnect();
    else this.socket.connect();
  }

  /** Detaches the handlers and disconnects. The client may be started again. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.clearRetry();
    this.socket.off('connect', this.handleConnect);
    this.socket.off('disconnect', this.handleDisconnect);
    this.socket.off('connect_error', this.handleConnectError);
    this.socket.off('events', this.handleEvents);
    this.socket.off('gap', this.handleGapNotice);
    this.socket.disconnect();
    for (const ch of this.channels.values()) ch.coveredFrom = null;
    this.everConnected = false;
    this.setState('connecting');
  }

  getState(): ConnectionState {
    return this.state;
  }

  /** Registers a callback for state changes; returns the unregister function (useSyncExternalStore shape). */
  onStateChange(fn: () => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** Last delivered seq of each listener of a channel (for diagnostics and tests). */
  cursors(channel: string): (number | null)[] {
    return [...(this.channels.get(channel)?.listeners ?? [])].map((l) => l.lastSeq);
  }

  /**
   * Listens to a channel. The listener buffers until `setBaseline` is called with its snapshot's headSeq.
   * @returns the handle; `unsubscribe()` stops delivery (and unsubscribes on the server when it was the last one).
   */
  subscribe(channel: string, listener: ChannelListener): ChannelSubscription {
    let ch = this.channels.get(channel);
    if (!ch) {
      ch = { name: channel, listeners: new Set(), epoch: null, coveredFrom: null, generation: 0 };
      this.channels.set(channel, ch);
    }
    const ls: ListenerState = { listener, lastSeq: null, awaiting: true, buffer: [] };
    ch.listeners.add(ls);
    const chRef = ch;
    if (ch.coveredFrom === null && this.socket.connected) void this.subscribeOnServer(ch);
    return {
      channel,
      setBaseline: (headSeq, epoch) => this.setBaseline(chRef, ls, headSeq, epoch),
      unsubscribe: () => this.removeListener(chRef, ls),
    };
  }

  /**
   * Called when the page becomes visible again (or the network comes back): reconnects at once if the socket is
   * down, else resubscribes every channel with its cursor so anything missed is replayed (duplicates are dropped).
   */
  checkConnection(): void {
    if (!this.started) return;
    if (this.socket.connected) {
      for (const ch of this.channels.values()) void this.subscribeOnServer(ch);
      return;
    }
    this.clearRetry();
    this.socket.disconnect();
    this.socket.connect();
  }

  // ------------------------------------------------------------------ internals

  private setState(next: ConnectionState): void {
    if (next === this.state) return;
    this.state = next;
    for (const fn of [...this.stateListeners]) fn();
  }

  private readonly handleConnect = (): void => {
    this.everConnected = true;
    this.retryDelay = this.opts.retryMinMs;
    this.clearRetry();
    const pending = [...this.channels.values()].map((ch) => this.subscribeOnServer(ch));
    void Promise.all(pending).then(() => {
      if (this.socket.connected && this.started) this.setState('live');
    });
  };

  private readonly handleDisconnect = (): void => {
    for (const ch of this.channels.values()) ch.coveredFrom = null;
    if (!this.started) return;
    this.setState('reconnecting');
    // socket.io reconnects by itself unless the disconnect came from the server ("io server disconnect").
    if (this.socket.active === false) this.scheduleRetry();
  };

  private readonly handleConnectError = (err: unknown): void => {
    this.setState(this.everConnected ? 'reconnecting' : 'connecting');
    this.opts.onConnectError?.(err);
    // A refused handshake (middleware error) is not retried by socket.io; retry with our own backoff.
    if (this.socket.active === false) this.scheduleRetry();
  };

  private scheduleRetry(): void {
    if (this.retryTimer || !this.started) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.retryMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.started && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private readonly handleEvents = (events: EventEnvelope[], channel: string): void => {
    const ch = this.channels.get(channel);
    if (!ch || !Array.isArray(events) || events.length === 0) return;
    const frame = orderFrame(events);
    for (const ls of ch.listeners) this.deliver(ls, frame);
  };

  private readonly handleGapNotice = (notice: GapNotice): void => {
    for (const name of notice?.channels ?? []) {
      const ch = this.channels.get(name);
      if (!ch) continue;
      ch.epoch = notice.epoch;
      ch.coveredFrom = null;
      this.resetListeners(ch, { channel: name, reason: notice.reason, headSeq: notice.headSeq, epoch: notice.epoch });
      // The server stopped feeding this channel: join again (live from now; the snapshot refetch covers the rest).
      void this.subscribeOnServer(ch);
    }
  };

  private deliver(ls: ListenerState, frame: EventEnvelope[]): void {
    if (ls.awaiting) {
      ls.buffer.push(...frame);
      if (ls.buffer.length > this.opts.maxBuffer) ls.buffer.splice(0, ls.buffer.length - this.opts.maxBuffer);
      return;
    }
    const last = ls.lastSeq ?? -Infinity;
    const fresh = frame.filter((e) => e.seq > last);
    if (fresh.length === 0) return;
    ls.lastSeq = fresh[fresh.length - 1].seq;
    ls.listener.onEvents(fresh);
  }

  private flush(ls: ListenerState): void {
    ls.awaiting = false;
    const buffered = orderFrame(ls.buffer);
    ls.buffer = [];
    if (buffered.length) this.deliver(ls, buffered);
  }

  private resetListeners(ch: ChannelState, info: GapInfo): void {
    for (const ls of ch.listeners) {
      ls.lastSeq = null;
      ls.awaiting = true;
      ls.buffer = [];
    }
    for (const ls of [...ch.listeners]) ls.listener.onGap?.(info);
  }

  private setBaseline(ch: ChannelState, ls: ListenerState, headSeq: number, epoch?: string): void {
    if (!ch.listeners.has(ls)) return;
    if (epoch && ch.epoch && epoch !== ch.epoch) {
      // The snapshot belongs to another epoch than our subscription (the log was reset): resubscribe from it.
      ch.coveredFrom = null;
    }
    if (epoch) ch.epoch = epoch;
    ls.lastSeq = headSeq;
    ls.awaiting = true;
    if (ch.coveredFrom !== null && headSeq >= ch.coveredFrom) {
      this.flush(ls);
      return;
    }
    // The live subscription starts after the snapshot (or none yet): replay from the snapshot's seq.
    if (this.socket.connected) void this.subscribeOnServer(ch);
  }

  private removeListener(ch: ChannelState, ls: ListenerState): void {
    ch.listeners.delete(ls);
    if (ch.listeners.size > 0 || this.channels.get(ch.name) !== ch) return;
    this.channels.delete(ch.name);
    ch.generation++;
    if (this.socket.connected) this.socket.emit('unsubscribe', { channel: ch.name }, () => undefined);
  }

  /** Sends `subscribe` with the lowest cursor of the channel's listeners and applies the ack. */
  private async subscribeOnServer(ch: ChannelState): Promise<void> {
    const cursors = [...ch.listeners].map((l) => l.lastSeq).filter((s): s is number => s !== null);
    const since = cursors.length ? Math.min(...cursors) : undefined;
    const req: SubscribeRequest = { channel: ch.name };
    if (since !== undefined) req.since = since;
    if (ch.epoch) req.epoch = ch.epoch;
    const generation = ++ch.generation;
    let ack: SubscribeAck;
    try {
      const emitter = this.socket.timeout ? this.socket.timeout(this.opts.ackTimeoutMs) : this.socket;
      ack = (await emitter.emitWithAck('subscribe', req)) as SubscribeAck;
    } catch {
      // Timeout or disconnect: the next connect resubscribes.
      if (generation === ch.generation) ch.coveredFrom = null;
      return;
    }
    if (generation !== ch.generation || this.channels.get(ch.name) !== ch) return;
    if (!ack || ack.ok !== true) {
      ch.coveredFrom = null;
      const failed = ack as { code?: string; message?: string } | undefined;
      this.opts.onSubscribeError?.(ch.name, failed?.code ?? 'realtime/unknown', failed?.message ?? 'subscribe failed');
      return;
    }
    const epochChanged = ch.epoch !== null && ack.epoch !== ch.epoch;
    ch.epoch = ack.epoch;
    if (ack.gap || (epochChanged && since !== undefined)) {
      ch.coveredFrom = ack.headSeq;
      this.resetListeners(ch, { channel: ch.name, reason: 'ack', headSeq: ack.headSeq, epoch: ack.epoch });
      return;
    }
    ch.coveredFrom = since ?? ack.headSeq;
    // Listeners whose baseline is now covered (the replay has been sent before the ack) go live.
    for (const ls of ch.listeners) {
      if (ls.awaiting && ls.lastSeq !== null && ls.lastSeq >= ch.coveredFrom) this.flush(ls);
    }
  }
}
