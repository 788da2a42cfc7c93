import type { EventEnvelope } from './events';

export const REALTIME_NAMESPACE = '/live';

export interface SubscribeRequest {
  channel: string;
  /** Replay every event on the channel with seq > since, then go live. */
  since?: number;
  /** The epoch the client's cursor belongs to; a different epoch means gap. */
  epoch?: string;
  /**
   * Only these event types, live and in replay (1-50 catalogue types; not on `mobile`). The cursor keeps its meaning:
   * resume with the last seq received, events of other types in between are simply never sent. Subscribing again to
   * the same channel replaces the filter (or removes it, without `types`).
   */
  types?: string[];
}

export type SubscribeAck =
  | {
      ok: true;
      channel: string;
      epoch: string;
      headSeq: number;
      /** Number of events replayed before going live. */
      replayed: number;
      /** True: the cursor cannot be honoured (retention, other epoch, too far behind); refetch the snapshot. */
      gap: boolean;
      /** The type filter in force (sorted), when the subscription has one. */
      types?: string[];
    }
  | { ok: false; channel?: string; code: string; message: string };

export interface UnsubscribeRequest {
  channel: string;
}

export type UnsubscribeAck = { ok: true; channel: string } | { ok: false; code: string; message: string };

/** Sent when the server stops feeding a channel to a client that fell too far behind. */
export interface GapNotice {
  channels: string[];
  reason: 'slow_consumer' | 'epoch_changed';
  headSeq: number;
  epoch: string;
}

export interface ServerToClientEvents {
  /** A coalesced frame: envelopes in seq order; the second argument names the channel the frame was sent for. */
  events: (events: EventEnvelope[], channel: string) => void;
  gap: (notice: GapNotice) => void;
}

export interface ClientToServerEvents {
  subscribe: (req: SubscribeRequest, ack: (res: SubscribeAck) => void) => void;
  unsubscribe: (req: UnsubscribeRequest, ack: (res: UnsubscribeAck) => void) => void;
}
