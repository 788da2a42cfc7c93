import type { SubscribeAck, SubscribeRequest, EventEnvelope } from '@app/contracts';
import type { RealtimeSocket } from '../realtime';

/** A listener as registered by the client; the fake calls it with whatever the "server" sends. */
type Handler = (...args: never[]) => void;

/**
 * A fake socket.io client socket: records what the client emits and lets the test play the server.
 * `server` answers subscribe requests (default: ok, live from the current head, no gap).
 */
export class FakeSocket implements RealtimeSocket {
  connected = false;
  active = true;
  readonly handlers = new Map<string, Set<Handler>>();
  readonly subscribes: SubscribeRequest[] = [];
  readonly emitted: { event: string; args: unknown[] }[] = [];
  head = 0;
  epoch = 'epoch-1';
  /** Frames the server "replays" before acking a subscribe with since. */
  replay: (req: SubscribeRequest) => EventEnvelope[] = () => [];
  gapFor: (req: SubscribeRequest) => boolean = () => false;
  connectCalls = 0;

  on(event: string, fn: Handler): this {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(fn);
    return this;
  }
  off(event: string, fn?: Handler): this {
    if (fn) this.handlers.get(event)?.delete(fn);
    else this.handlers.delete(event);
    return this;
  }
  emit(event: string, ...args: unknown[]): this {
    this.emitted.push({ event, args });
    return this;
  }
  async emitWithAck(event: string, req: SubscribeRequest): Promise<SubscribeAck> {
    this.emitted.push({ event, args: [req] });
    if (event !== 'subscribe') throw new Error('unexpected ' + event);
    this.subscribes.push(req);
    const gap = this.gapFor(req);
    if (!gap && req.since !== undefined) {
      const frame = this.replay(req).filter((e) => e.seq > req.since!);
      if (frame.length) this.fire('events', frame, req.channel);
    }
    return { ok: true, channel: req.channel, epoch: this.epoch, headSeq: this.head, replayed: 0, gap };
  }
  connect(): this {
    this.connectCalls++;
    return this;
  }
  disconnect(): this {
    if (this.connected) {
      this.connected = false;
      this.fire('disconnect', 'io client disconnect');
    }
    return this;
  }
  fire(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.handlers.get(event) ?? [])]) (fn as (...a: unknown[]) => void)(...args);
  }
  serverConnect(): void {
    this.connected = true;
    this.fire('connect');
  }
  serverDrop(): void {
    this.connected = false;
    this.fire('disconnect', 'transport close');
  }
}

/** A minimal envelope for tests. */
export function envelope(seq: number, channel = 'swarm', type: EventEnvelope['type'] = 'task.created'): EventEnvelope {
  return {
    seq,
    id: `id-${seq}`,
    type,
    source: 'test',
    channel: channel as EventEnvelope['channel'],
    taskId: null,
    agentId: null,
    data: { description: `task ${seq}` },
    createdAt: new Date(1_700_000_000_000 + seq).toISOString(),
  } as unknown as EventEnvelope;
}
