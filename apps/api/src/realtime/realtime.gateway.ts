import { Inject, Logger, OnApplicationShutdown } from '@nestjs/common';
import { OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import {
  EVENT_TYPES,
  MOBILE_EVENT_TYPES,
  PRIVILEGED_CHANNELS,
  REALTIME_NAMESPACE,
  type ClientToServerEvents,
  type EventEnvelope,
  type GapNotice,
  type ServerToClientEvents,
  type SubscribeAck,
  type UnsubscribeAck,
} from '@app/contracts';
import fastifyCookie from '@fastify/cookie';
import proxyaddr from 'proxy-addr';
import type { Namespace, Socket } from 'socket.io';
import { SESSION_COOKIE } from '../auth/auth.constants';
import { AuthService, type ResolvedPrincipal } from '../auth/auth.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { InternalBus, type CredentialRevoked } from '../event-log/internal-bus';
import { attachClusterBus } from './cluster-bus';
import { LogTailer } from './log-tailer';

/** Socket.IO server-side event (over Redis) that tells the other instances a new head seq was committed. */
const HEAD_NOTICE_EVENT = 'mc:head';
import { EventLogWriter } from '../event-log/event-log.writer';
import { EventLogReader } from '../event-log/event-log.reader';
import type { EventFilter } from '../event-log/event-log.types';
import { decideAccess, PUBLIC_ROOM_SUFFIX, publicRoom } from '../auth/access-policy';
import { trustProxyOption } from '../common/http-edge';
import { ConnectionLimiter, isRefusal, principalKey, type LimitRefusal } from './connection-limits';

/** Events per replay frame (one page of the log). */
const REPLAY_FRAME_SIZE = 1000;
/** Event data per replay frame, bytes (a page of the log stops there; `EventLogReader.findBounded`). */
const REPLAY_PAGE_BYTES = 256_000;
/** While a replay is behind live frames it has not read yet, how often it re-reads an empty page, ms. */
const REPLAY_CATCH_UP_POLL_MS = 5;
/** Minimum interval between slow-consumer scans, ms. */
const SLOW_SCAN_INTERVAL_MS = 50;
const MOBILE_TYPES = new Set<string>(MOBILE_EVENT_TYPES);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const KNOWN_TYPES = new Set<string>(EVENT_TYPES);
/** Most types one `subscribe { types }` may list. */
const MAX_FILTER_TYPES = 50;
/** Separates a channel's room from its type filter in a filtered room's name (`swarm~types:task.created,...`). */
const FILTER_SEP = '~types:';

interface SocketData {
  principal: ResolvedPrincipal;
  /** Client IP (the peer, or X-Forwarded-For through TRUST_PROXY proxies), for the connection limits. */
  ip: string;
  /** Rooms this socket joined through `subscribe`. */
  rooms: Set<string>;
}

type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type LiveNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
interface EnginePacket {
  type: string;
  data?: unknown;
}
/** The parts of an engine.io socket the byte accounting reads (engine.io 6: `writeBuffer`, `transport.socket` = ws). */
interface EngineConn {
  writeBuffer: EnginePacket[];
  transport?: { socket?: { bufferedAmount?: unknown } };
}

/**
 * Bytes queued for a socket and not yet handed to the kernel: engine.io's write buffer (packets waiting for the
 * transport; strings counted by UTF-16 length, binary by byteLength) plus the WebSocket's `bufferedAmount` (ws: bytes
 * accepted by `send` but not yet written to the TCP socket).
 */
export function queuedBytes(conn: EngineConn): number {
  let n = 0;
  for (const p of conn.writeBuffer) {
    const d = p.data;
    if (typeof d === 'string') n += d.length;
    else if (d && typeof (d as ArrayBufferView).byteLength === 'number') n += (d as ArrayBufferView).byteLength;
  }
  const buffered = conn.transport?.socket?.bufferedAmount;
  return typeof buffered === 'number' ? n + buffered : n;
}

/**
 * Replay state of one socket in one room. While `after` is null the replay runs: live frames for the socket are not
 * sent, only the highest seq they carried is kept (`liveThrough`), and the replay reads the log until it has passed
 * it (those events are committed, so the log has them). Once the replay is out, `after` is the last seq it sent and
 * live frames still carrying seqs <= after are trimmed for that socket until the live stream passes it.
 */
interface ReplayEntry {
  liveThrough: number;
  after: number | null;
}

/** A counting semaphore (replays running at once). */
class Slots {
  private readonly waiters: (() => void)[] = [];
  constructor(private free: number) {}

  /** Resolves when a slot is free; the caller must call `release` once. */
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** A Socket.IO middleware error the client sees as `connect_error` (`message` = code, `data` = { code, message }). */
function limitError(r: LimitRefusal): Error & { data: LimitRefusal } {
  return Object.assign(new Error(r.code), { data: r });
}

/** The room a type-filtered room belongs to (`swarm~types:a,b` -> `swarm`; other rooms are their own). */
function baseRoom(room: string): string {
  const i = room.indexOf(FILTER_SEP);
  return i < 0 ? room : room.slice(0, i);
}

/** The channel name a room's frames are labelled with (what the client subscribed to). */
function channelOfRoom(room: string): string {
  const base = baseRoom(room);
  return base.endsWith(PUBLIC_ROOM_SUFFIX) ? base.slice(0, -PUBLIC_ROOM_SUFFIX.length) : base;
}

/**
 * The log filter that reproduces what a room receives live (used for replay); public rooms hide privileged channels,
 * a type-filtered room adds its types.
 */
export function filterForRoom(room: string): EventFilter {
  const i = room.indexOf(FILTER_SEP);
  if (i >= 0) return { ...filterForChannelRoom(room.slice(0, i)), types: room.slice(i + FILTER_SEP.length).split(',') };
  return filterForChannelRoom(room);
}

function filterForChannelRoom(room: string): EventFilter {
  const base = channelOfRoom(room);
  const hidden = room.endsWith(PUBLIC_ROOM_SUFFIX) ? { excludeChannels: PRIVILEGED_CHANNELS } : {};
  if (base === 'all') return hidden;
  if (base === 'mobile') return { types: MOBILE_EVENT_TYPES, ...hidden };
  if (base.startsWith('task:')) return { taskId: base.slice(5), ...hidden };
  if (base.startsWith('agent:')) return { agentId: base.slice(6), ...hidden };
  return { channels: [base] };
}

/** Rooms an event is delivered to live (the mobile digest is handled separately): each mixed room and, unless the event is privileged, its public variant. */
function roomsFor(e: EventEnvelope): string[] {
  const mixed = ['all'];
  if (e.taskId) mixed.push(`task:${e.taskId}`);
  if (e.agentId) mixed.push(`agent:${e.agentId}`);
  const rooms = [e.channel as string, ...mixed];
  if (!PRIVILEGED_CHANNELS.includes(e.channel)) for (const r of mixed) rooms.push(publicRoom(r));
  return rooms;
}

/** Key under which the mobile digest conflates events (latest wins within one digest interval). */
function mobileKey(e: EventEnvelope): string {
  if (e.type.startsWith('task.') && e.taskId) return `task:${e.taskId}`;
  const qid = (e.data as { questionId?: unknown }).questionId;
  if (e.type.startsWith('question.') && typeof qid === 'string') return `q:${qid}`;
  if (e.type.startsWith('agent.') && e.agentId) return `agent:${e.agentId}`;
  return `seq:${e.seq}`;
}

/**
 * Socket.IO gateway on namespace `/live` (BRIEF section 5).
 *
 * - Handshake: `auth.token` (API key or session token) or the `mc_session` cookie; anything else is refused.
 * - `subscribe {channel, since?, epoch?}`: checks access, joins the room, replays `seq > since` from the log
 *   (or answers `gap: true` for another epoch, a pruned cursor or a cursor more than REPLAY_MAX_EVENTS behind),
 *   then acks `{ ok, channel, epoch, headSeq, replayed, gap }`.
 * - Live: events committed in one tick are coalesced into one `events` frame per room (and frames are at least
 *   REALTIME_FLUSH_MS apart, more with many sockets, so a busy log sends fewer, larger frames); the `mobile` room
 *   gets a conflated digest every MOBILE_DIGEST_MS.
 * - Backpressure: a socket whose engine.io write buffer holds more than SOCKET_MAX_BUFFERED_FRAMES packets is a slow
 *   consumer: its queued frames are dropped, it leaves its rooms and gets a `gap` notice to resync from its cursor
 *   (logged as `system.warning`).
 */
@WebSocketGateway({ namespace: REALTIME_NAMESPACE })
export class RealtimeGateway implements OnGatewayInit, OnApplicationShutdown {
  @WebSocketServer() private nsp: LiveNamespace;
  private detachClusterBus: (() => void) | null = null;
  /** Several instances (REDIS_URL): reads the shared log in seq order for this instance's sockets. */
  private tailer: LogTailer | null = null;
  private tailPoll: NodeJS.Timeout | null = null;
  private readonly logger = new Logger('Realtime');
  private readonly roomBuffers = new Map<string, EventEnvelope[]>();
  private flushScheduled = false;
  private lastSlowScan = 0;
  private lastFlush = 0;
  private mobilePending = new Map<string, EventEnvelope>();
  private mobileTimer: NodeJS.Timeout | null = null;
  /**
   * Type-filtered rooms of this instance's sockets: channel room -> filtered room -> its types. A live event of a
   * channel room also goes to each filtered room whose types include it. Entries go when their room empties.
   */
  private readonly filteredRooms = new Map<string, Map<string, Set<string>>>();
  /**
   * Sockets replaying a room (room -> socket id -> state, `ReplayEntry`): the socket gets every seq exactly once,
   * in order, and nothing but a seq number is held per socket while it replays.
   */
  private readonly replaying = new Map<string, Map<string, ReplayEntry>>();
  /** Replays running at once (REALTIME_REPLAY_CONCURRENCY): together with the per-socket high-water mark, bounds replay memory. */
  private readonly replaySlots: Slots;
  /**
   * Sockets whose replay is sending pages now: the slow-consumer scan leaves them alone (the replay's own backpressure
   * and REPLAY_DRAIN_TIMEOUT_MS govern them), so a page larger than the byte bound cannot shed its socket in a loop.
   */
  private readonly replayingNow = new Set<string>();
  /** Counters for tests and metrics. */
  readonly stats = { framesSent: 0, slowConsumers: 0, refusedHandshakes: 0, limitedHandshakes: 0, replayStalls: 0 };
  /** Per-IP handshake rate and concurrent sockets per principal / IP (connection-limits.ts). */
  readonly limiter: ConnectionLimiter;
  private readonly trustProxy: ReturnType<typeof trustProxyOption>;

  constructor(
    private readonly auth: AuthService,
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
    private readonly bus: InternalBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.limiter = new ConnectionLimiter({
      handshakesPerIp: config.REALTIME_HANDSHAKES_PER_IP,
      handshakeWindowMs: config.REALTIME_HANDSHAKE_WINDOW_MS,
      maxSocketsPerPrincipal: config.REALTIME_MAX_SOCKETS_PER_PRINCIPAL,
      maxSocketsPerIp: config.REALTIME_MAX_SOCKETS_PER_IP,
    });
    this.trustProxy = trustProxyOption(config.TRUST_PROXY);
    this.replaySlots = new Slots(config.REALTIME_REPLAY_CONCURRENCY);
    // one instance: commits go straight to the rooms; several (REDIS_URL): every instance feeds its own sockets
    // from the log in seq order (LogTailer), woken by the commit, never by relayed frames
    bus.on('appended', (events) => (this.tailer ? this.onCommitted(events) : this.handleAppended(events)));
    bus.on('credential-revoked', (c) => this.handleRevoked(c));
  }

  afterInit(nsp: LiveNamespace): void {
    nsp.use((socket, next) => {
      // edge controls first (no database read for a flood), then the credential, then the concurrent-socket caps
      const ip = this.clientIp(socket);
      const limited = this.limiter.admitHandshake(ip);
      if (limited) {
        this.stats.limitedHandshakes++;
        next(limitError(limited));
        return;
      }
      this.authenticate(socket)
        .then((principal) => {
          if (!principal) {
            this.stats.refusedHandshakes++;
            next(new Error('unauthorized'));
            return;
          }
          const lease = this.limiter.acquire(principalKey(principal), ip);
          if (isRefusal(lease)) {
            this.stats.limitedHandshakes++;
            next(limitError(lease));
            return;
          }
          socket.once('disconnect', () => {
            lease.release();
            this.forgetReplay(socket.id);
          });
          socket.data.principal = principal;
          socket.data.ip = ip;
          socket.data.rooms = new Set();
          next();
        })
        .catch(() => next(new Error('unauthorized')));
    });
    nsp.on('connection', (socket: LiveSocket) => this.onConnection(socket));
    // revocations and credential changes hold on every instance when the call that made them returns
    if (this.config.REDIS_URL) {
      this.detachClusterBus = attachClusterBus(nsp as unknown as Namespace, this.bus, this.logger);
      const tailer = new LogTailer(this.reader, (events) => this.handleAppended(events), this.logger);
      this.tailer = tailer;
      (nsp as unknown as { on(ev: string, fn: () => void): void }).on(HEAD_NOTICE_EVENT, () => tailer.wake());
      this.tailPoll = setInterval(() => tailer.wake(), this.config.REALTIME_TAIL_POLL_MS);
      this.tailPoll.unref();
      tailer.start().catch((err: Error) => this.logger.error(`log tail start failed: ${err.message}`));
    }
    this.mobileTimer = setInterval(() => this.flushMobile(), this.config.MOBILE_DIGEST_MS);
    this.mobileTimer.unref();
  }

  onApplicationShutdown(): void {
    if (this.mobileTimer) clearInterval(this.mobileTimer);
    this.detachClusterBus?.();
    this.tailer?.stop();
    if (this.tailPoll) clearInterval(this.tailPoll);
  }

  /** The client's IP: the TCP peer, or the X-Forwarded-For entry TRUST_PROXY allows (same rule as the REST API). */
  private clientIp(socket: LiveSocket): string {
    const trust = this.trustProxy;
    if (trust === false) return socket.handshake.address;
    const fn = typeof trust === 'function' ? trust : trust === true ? () => true : proxyaddr.compile(trust.split(',').map((x) => x.trim()));
    try {
      return proxyaddr(socket.request, fn);
    } catch {
      return socket.handshake.address;
    }
  }

  private async authenticate(socket: LiveSocket): Promise<ResolvedPrincipal | null> {
    const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (typeof fromAuth === 'string' && fromAuth) return this.auth.resolveToken(fromAuth);
    const header = socket.handshake.headers.cookie;
    return this.auth.resolveToken(header ? fastifyCookie.parse(header)[SESSION_COOKIE] : undefined, 'session');
  }

  private onConnection(socket: LiveSocket): void {
    const p = socket.data.principal;
    // credential rooms, so a revoked key / ended session can be disconnected on every instance
    if (p.apiKeyId) void socket.join(`cred:key:${p.apiKeyId}`);
    if (p.sessionId) void socket.join(`cred:session:${p.sessionId}`);
    if (p.userId) void socket.join(`cred:user:${p.userId}`);
    socket.on('subscribe', (req, ack) => {
      if (typeof ack !== 'function') return;
      this.subscribe(socket, req)
        .then(ack)
        .catch((err: Error) => {
          this.logger.error(`subscribe failed: ${err.message}`);
          ack({ ok: false, code: 'realtime/internal', message: 'subscribe failed' });
        });
    });
    socket.on('unsubscribe', (req, ack) => {
      const res = this.unsubscribe(socket, req);
      if (typeof ack === 'function') ack(res);
    });
  }

  private async subscribe(socket: LiveSocket, req: unknown): Promise<SubscribeAck> {
    if (!req || typeof req !== 'object' || Array.isArray(req)) {
      return { ok: false, code: 'realtime/bad_request', message: 'subscribe expects { channel, since?, epoch? }' };
    }
    const { channel, since, epoch, types } = req as { channel?: unknown; since?: unknown; epoch?: unknown; types?: unknown };
    if (since !== undefined && since !== null && (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0)) {
      return { ok: false, code: 'realtime/bad_request', message: 'since must be a non-negative integer seq' };
    }
    if (epoch !== undefined && epoch !== null && (typeof epoch !== 'string' || epoch.length > 64)) {
      return { ok: false, code: 'realtime/bad_request', message: 'epoch must be a string' };
    }
    let typeList: string[] | undefined;
    if (types !== undefined && types !== null) {
      if (!Array.isArray(types) || types.length === 0 || types.length > MAX_FILTER_TYPES || !types.every((x) => typeof x === 'string' && KNOWN_TYPES.has(x))) {
        return { ok: false, code: 'realtime/bad_request', message: `types must be 1-${MAX_FILTER_TYPES} event types of the catalogue (docs/events.md)` };
      }
      typeList = [...new Set(types as string[])].sort();
    }
    const access = decideAccess(socket.data.principal, channel);
    if (!access.ok) return { ok: false, channel: typeof channel === 'string' ? channel : undefined, code: access.code, message: access.message };
    const name = channel as string;
    if (typeList && access.room === 'mobile') {
      return { ok: false, channel: name, code: 'realtime/bad_request', message: 'the mobile digest has a fixed set of types; subscribe to a channel to filter by type' };
    }
    // one subscription per channel: a new subscribe replaces the previous filter (or lack of one)
    this.leaveChannel(socket, access.room);
    const room = typeList ? `${access.room}${FILTER_SEP}${typeList.join(',')}` : access.room;
    if (typeList) this.registerFilteredRoom(access.room, room, typeList);
    const filterAck = typeList ? { types: typeList } : {};
    if (since === undefined || since === null) {
      await socket.join(room);
      socket.data.rooms.add(room);
      const headSeq = await this.reader.getHeadSeq();
      return { ok: true, channel: name, epoch: this.reader.epoch, headSeq, replayed: 0, gap: false, ...filterAck };
    }
    // Join first, replay second, with this socket's live frames for the room held back until the replay is out:
    // nothing committed meanwhile is missed, and the client sees one seq-ordered stream.
    let held = this.replaying.get(room);
    if (!held) this.replaying.set(room, (held = new Map()));
    const entry: ReplayEntry = { liveThrough: 0, after: null };
    held.set(socket.id, entry);
    let release = true;
    try {
      await socket.join(room);
      socket.data.rooms.add(room);
      const result = await this.replay(socket, room, name, since as number, epoch, entry);
      // set synchronously after the replay's last read (no flush in between): live frames still bringing seqs <=
      // lastSeq are trimmed for this socket until the live stream passes it (flush)
      if (result.ack.ok && !result.ack.gap && result.lastSeq > 0) {
        entry.after = result.lastSeq;
        release = false;
      }
      return result.ack.ok ? { ...result.ack, ...filterAck } : result.ack;
    } finally {
      if (release && held.get(socket.id) === entry) held.delete(socket.id);
      // only this room's current map: an emptied map may already have been replaced by another subscribe's
      if (held.size === 0 && this.replaying.get(room) === held) this.replaying.delete(room);
    }
  }

  /** Forgets a socket's replay state in every room (it left or disconnected). */
  private forgetReplay(socketId: string, onlyRoom?: string): void {
    for (const [room, held] of this.replaying) {
      if (onlyRoom !== undefined && baseRoom(room) !== onlyRoom) continue;
      held.delete(socketId);
      if (held.size === 0) this.replaying.delete(room);
    }
  }

  /**
   * Replays `seq > cursor` of a room's filter to one socket, in byte-bounded pages (REPLAY_PAGE_BYTES), one frame per
   * page, waiting after each frame until the socket has drained below its high-water mark (backpressure), and reading
   * on until it has passed every live frame held back meanwhile (`entry.liveThrough`). At most
   * REALTIME_REPLAY_CONCURRENCY replays run at once. A socket that does not drain within REPLAY_DRAIN_TIMEOUT_MS is
   * shed as a slow consumer (`gap` notice; it resumes later from its own cursor).
   * @returns the ack and the last seq sent (`cursor` when none).
   */
  private async replay(
    socket: LiveSocket,
    room: string,
    name: string,
    cursor: number,
    epoch: unknown,
    entry: ReplayEntry,
  ): Promise<{ ack: SubscribeAck; lastSeq: number }> {
    const headSeq = await this.reader.getHeadSeq();
    const base = { ok: true as const, channel: name, epoch: this.reader.epoch, headSeq };
    const otherEpoch = typeof epoch === 'string' && epoch !== this.reader.epoch;
    if (otherEpoch || cursor > headSeq || cursor < (await this.reader.getPrunedThroughSeq())) {
      return { ack: { ...base, replayed: 0, gap: true }, lastSeq: cursor };
    }
    const filter = filterForRoom(room);
    if ((await this.reader.count({ ...filter, after: cursor })) > this.config.REPLAY_MAX_EVENTS) {
      return { ack: { ...base, replayed: 0, gap: true }, lastSeq: cursor };
    }
    await this.replaySlots.acquire();
    let replayed = 0;
    let lastSeq = cursor;
    this.replayingNow.add(socket.id);
    try {
      const highWater = Math.floor(this.config.SOCKET_MAX_BUFFERED_BYTES / 4);
      for (;;) {
        // stop when the socket went, or left the room, or a newer subscribe replaced this replay
        if (!socket.connected || this.replaying.get(room)?.get(socket.id) !== entry) return { ack: { ...base, replayed, gap: false }, lastSeq: 0 };
        const { items, truncated } = await this.reader.findBounded({ ...filter, after: lastSeq }, REPLAY_FRAME_SIZE, REPLAY_PAGE_BYTES, 'asc');
        if (items.length > 0) {
          socket.emit('events', items, name);
          replayed += items.length;
          lastSeq = items[items.length - 1].seq;
        }
        const more = items.length === REPLAY_FRAME_SIZE || truncated;
        // decided synchronously after the read: no live frame can slip in between this check and the caller's cut-over
        if (!more && lastSeq >= entry.liveThrough) break;
        if (items.length === 0) {
          await sleep(REPLAY_CATCH_UP_POLL_MS); // the held-back live events are committed: the next read has them
          continue;
        }
        if (!(await this.drained(socket, highWater))) {
          this.stats.replayStalls++;
          this.shed(socket, 'replay did not drain');
          return { ack: { ...base, replayed, gap: false }, lastSeq: 0 };
        }
      }
    } finally {
      this.replayingNow.delete(socket.id);
      this.replaySlots.release();
    }
    return { ack: { ...base, replayed, gap: false }, lastSeq };
  }

  /**
   * Waits until the socket's queued bytes are at most `highWater` (true), or false when it disconnects or
   * REPLAY_DRAIN_TIMEOUT_MS passes first. Polls every 10 ms: engine.io empties its buffer on the transport's drain.
   */
  private async drained(socket: LiveSocket, highWater: number): Promise<boolean> {
    const deadline = Date.now() + this.config.REPLAY_DRAIN_TIMEOUT_MS;
    for (;;) {
      if (!socket.connected) return false;
      if (queuedBytes(socket.conn as unknown as EngineConn) <= highWater) return true;
      if (Date.now() >= deadline) return false;
      await sleep(10);
    }
  }

  private unsubscribe(socket: LiveSocket, req: unknown): UnsubscribeAck {
    const channel = (req as { channel?: unknown } | null)?.channel;
    const access = decideAccess(socket.data.principal, channel);
    if (!access.ok) return { ok: false, code: access.code, message: access.message };
    this.leaveChannel(socket, access.room);
    return { ok: true, channel: channel as string };
  }

  /** Leaves a channel's room and every type-filtered room of that channel. */
  private leaveChannel(socket: LiveSocket, channelRoom: string): void {
    this.forgetReplay(socket.id, channelRoom);
    for (const r of [...socket.data.rooms]) {
      if (baseRoom(r) !== channelRoom) continue;
      void socket.leave(r);
      socket.data.rooms.delete(r);
    }
  }

  private registerFilteredRoom(channelRoom: string, room: string, types: string[]): void {
    let m = this.filteredRooms.get(channelRoom);
    if (!m) this.filteredRooms.set(channelRoom, (m = new Map()));
    if (!m.has(room)) m.set(room, new Set(types));
  }

  /** This instance committed `events` (several instances): read the log from the tail, and tell the others. */
  private onCommitted(events: EventEnvelope[]): void {
    this.tailer?.wake();
    if (events.length > 0) (this.nsp as unknown as Namespace | undefined)?.serverSideEmit(HEAD_NOTICE_EVENT, events[events.length - 1].seq);
  }

  /**
   * Receives committed events in seq order (this instance's commits, or the log tail with several instances) and
   * queues them per room of this instance's sockets for the next frame.
   */
  handleAppended(events: EventEnvelope[]): void {
    if (!this.nsp) return;
    const local = this.nsp.adapter.rooms;
    const mobileLive = local.has('mobile') || local.has(publicRoom('mobile'));
    const ownRooms = this.nsp.adapter.rooms;
    for (const e of events) {
      for (const room of roomsFor(e)) {
        const filtered = this.filteredRooms.get(room);
        if (filtered) {
          for (const [froom, types] of filtered) {
            if (!ownRooms.has(froom)) {
              filtered.delete(froom); // its last socket left
              continue;
            }
            if (!types.has(e.type)) continue;
            let fbuf = this.roomBuffers.get(froom);
            if (!fbuf) this.roomBuffers.set(froom, (fbuf = []));
            fbuf.push(e);
          }
          if (filtered.size === 0) this.filteredRooms.delete(room);
        }
        if (!local.has(room)) continue;
        let buf = this.roomBuffers.get(room);
        if (!buf) this.roomBuffers.set(room, (buf = []));
        buf.push(e);
      }
      if (mobileLive && MOBILE_TYPES.has(e.type)) this.mobilePending.set(mobileKey(e), e);
    }
    if (!this.flushScheduled && this.roomBuffers.size > 0) {
      this.flushScheduled = true;
      const wait = this.lastFlush + this.flushIntervalMs() - Date.now();
      if (wait > 0) setTimeout(() => this.flush(), wait);
      else setImmediate(() => this.flush());
    }
  }

  /**
   * Minimum gap between frames: REALTIME_FLUSH_MS plus 1 ms per 10 connected sockets (at most 60 ms). With many
   * subscribers, fewer and larger frames cut the per-message cost on both ends (500 clients: 60 ms frames).
   */
  private flushIntervalMs(): number {
    return Math.min(60, this.config.REALTIME_FLUSH_MS + Math.floor(this.nsp.sockets.size / 10));
  }

  private flush(): void {
    this.flushScheduled = false;
    this.lastFlush = Date.now();
    for (const [room, events] of this.roomBuffers) {
      const held = this.replaying.get(room);
      if (held && held.size > 0) {
        const except = [...held.keys()];
        const channel = channelOfRoom(room);
        const last = events[events.length - 1].seq;
        for (const [id, entry] of held) {
          if (entry.after === null) {
            if (last > entry.liveThrough) entry.liveThrough = last; // the replay reads on through it
            continue;
          }
          const fresh = events.filter((e) => e.seq > entry.after!);
          if (fresh.length > 0) this.nsp.sockets.get(id)?.emit('events', fresh, channel);
          if (last >= entry.after) held.delete(id); // the live stream passed the replay: plain room frames from now
        }
        if (held.size === 0) this.replaying.delete(room);
        this.nsp.local.to(room).except(except).emit('events', events, channel);
      } else {
        this.nsp.local.to(room).emit('events', events, channelOfRoom(room));
      }
      this.stats.framesSent++;
    }
    this.roomBuffers.clear();
    const now = Date.now();
    if (now - this.lastSlowScan >= SLOW_SCAN_INTERVAL_MS) {
      this.lastSlowScan = now;
      this.shedSlowConsumers();
    }
  }

  private flushMobile(): void {
    if (this.mobilePending.size === 0 || !this.nsp) return;
    const events = [...this.mobilePending.values()].sort((a, b) => a.seq - b.seq);
    this.mobilePending = new Map();
    this.nsp.local.to('mobile').emit('events', events, 'mobile');
    const open = events.filter((e) => !PRIVILEGED_CHANNELS.includes(e.channel));
    if (open.length > 0) this.nsp.local.to(publicRoom('mobile')).emit('events', open, 'mobile');
    this.stats.framesSent++;
  }

  /**
   * Sheds slow consumers: a socket with more than SOCKET_MAX_BUFFERED_FRAMES packets or SOCKET_MAX_BUFFERED_BYTES
   * bytes queued, then, while all sockets together hold more than REALTIME_MAX_BUFFERED_BYTES, the largest backlogs
   * first. Bounded memory per client and per instance.
   */
  private shedSlowConsumers(): void {
    const frames = this.config.SOCKET_MAX_BUFFERED_FRAMES;
    const bytes = this.config.SOCKET_MAX_BUFFERED_BYTES;
    const kept: { socket: LiveSocket; n: number }[] = [];
    let total = 0;
    for (const socket of this.nsp.sockets.values()) {
      const conn = socket.conn as unknown as EngineConn;
      // replaying (its own backpressure governs it) or already shed and not resubscribed (gets no frames): leave alone
      if (this.replayingNow.has(socket.id) || socket.data.rooms.size === 0) {
        total += queuedBytes(conn);
        continue;
      }
      if (conn.writeBuffer.length === 0 && !conn.transport?.socket?.bufferedAmount) continue;
      const n = queuedBytes(conn);
      if (conn.writeBuffer.length > frames || n > bytes) {
        this.shed(socket, conn.writeBuffer.length > frames ? `${conn.writeBuffer.length} frames queued` : `${n} bytes queued`);
        continue;
      }
      total += n;
      if (n > 0) kept.push({ socket, n });
    }
    if (total <= this.config.REALTIME_MAX_BUFFERED_BYTES) return;
    kept.sort((a, b) => b.n - a.n);
    for (const { socket, n } of kept) {
      if (total <= this.config.REALTIME_MAX_BUFFERED_BYTES) break;
      this.shed(socket, `${n} bytes queued, instance total over ${this.config.REALTIME_MAX_BUFFERED_BYTES}`);
      total -= n;
    }
  }

  /** Drops a socket's queued frames, takes it out of its rooms and tells it to resync from its cursor (`gap`). */
  private shed(socket: LiveSocket, why: string): void {
    this.stats.slowConsumers++;
    const conn = socket.conn as unknown as EngineConn;
    conn.writeBuffer = conn.writeBuffer.filter((p) => !(typeof p.data === 'string' && p.data.includes('["events",')));
    const channels = [...socket.data.rooms].map(channelOfRoom);
    for (const room of socket.data.rooms) void socket.leave(room);
    socket.data.rooms.clear();
    this.forgetReplay(socket.id);
    const notice: GapNotice = { channels, reason: 'slow_consumer', headSeq: 0, epoch: this.reader.epoch };
    void this.reader.getHeadSeq().then((headSeq) => socket.emit('gap', { ...notice, headSeq }));
    this.logger.warn(`slow consumer ${socket.id} (${why}): dropped its backlog, told it to resync ${channels.join(',')}`);
    const p = socket.data.principal;
    void this.events
      .append([
        {
          type: 'system.warning',
          source: 'realtime',
          agentId: p.agentId,
          data: { message: 'slow realtime consumer told to resync', socketId: socket.id, channels, who: p.username ?? p.agentId ?? p.apiKeyId, reason: why },
        },
      ])
      .catch(() => undefined);
  }

  /** Disconnects sockets authenticated with a revoked key, an ended session or a disabled user (bus `credential-revoked`). */
  handleRevoked(c: CredentialRevoked): void {
    if (!this.nsp) return;
    if (c.apiKeyId) this.nsp.in(`cred:key:${c.apiKeyId}`).disconnectSockets(true);
    if (c.sessionId) this.nsp.in(`cred:session:${c.sessionId}`).disconnectSockets(true);
    if (c.userId) this.nsp.in(`cred:user:${c.userId}`).disconnectSockets(true);
  }
}
