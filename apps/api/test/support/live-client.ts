import type { ClientToServerEvents, EventEnvelope, GapNotice, ServerToClientEvents, SubscribeAck } from '@app/contracts';
import { io, type Socket } from 'socket.io-client';

export type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Connects a real socket.io-client to `/live` (websocket only) and resolves once connected or rejects on refusal. */
export function connectLive(url: string, token: string | undefined, opts: { reconnection?: boolean } = {}): Promise<LiveSocket> {
  const socket: LiveSocket = io(`${url}/live`, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Collects every envelope received on a socket, per channel, and every gap notice. */
export class Collector {
  readonly byChannel = new Map<string, EventEnvelope[]>();
  readonly gaps: GapNotice[] = [];
  frames = 0;

  attach(socket: LiveSocket): this {
    socket.on('events', (events, channel) => {
      this.frames++;
      const list = this.byChannel.get(channel) ?? [];
      list.push(...events);
      this.byChannel.set(channel, list);
    });
    socket.on('gap', (g) => this.gaps.push(g));
    return this;
  }

  seqs(channel: string): number[] {
    return (this.byChannel.get(channel) ?? []).map((e) => e.seq);
  }
}

export function subscribe(socket: LiveSocket, channel: string, since?: number, epoch?: string): Promise<SubscribeAck> {
  return socket.timeout(10_000).emitWithAck('subscribe', { channel, since, epoch });
}
