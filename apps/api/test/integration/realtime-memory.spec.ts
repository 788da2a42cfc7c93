import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '@app/contracts';
import { connectLive, subscribe, type LiveSocket } from '../support/live-client';
import { ensureBuilt, startServer, stop, type Server } from '../support/server-process';
import { ADMIN_PASSWORD, createKeyWithPassword } from '../support/test-app';

/**
 * Issue 11 section 2: 20 slow clients (16 kB events at 150/s) are shed with `gap` and catch up by replay; the
 * server's RSS stays <= 400 MB throughout (the outside run saw 916-1,015 MB), and every client still ends with
 * every event exactly once, in seq order.
 */
const CLIENTS = 20;
const RATE_PER_S = 150;
const EVENT_KB = 16;
const PRODUCE_S = Number(process.env.RT_MEMORY_PRODUCE_S ?? 25);

/** RSS of a process in MB, from /proc (Linux). */
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A subscriber of `all` that follows the protocol: keeps its last seq, resubscribes from it on `gap`, and reconnects
 * and resubscribes from it when the connection drops (a client paused for seconds may miss the server's pings).
 */
class SlowClient {
  lastSeq = 0;
  readonly seqs: number[] = [];
  /** Frames carrying seqs at or below the last one seen: dropped, as the protocol's clients do (BRIEF: at-least-once, seq de-duplication). */
  duplicates = 0;
  readonly dupSamples: Record<string, unknown>[] = [];
  readonly failures: string[] = [];
  gaps = 0;
  resyncs = 0;
  failedResyncs = 0;
  reconnects = 0;
  socket!: LiveSocket;
  private tcp!: { pause(): void; resume(): void };
  private paused = false;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly key: string,
  ) {}

  async connect(): Promise<void> {
    const socket = await connectLive(this.url, this.key);
    this.socket = socket;
    this.tcp = (socket.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws._socket;
    if (this.paused) this.tcp.pause();
    socket.on('events', (events: EventEnvelope[]) => {
      for (const e of events) {
        if (e.seq <= this.lastSeq) {
          this.duplicates++;
          if (this.dupSamples.length < 5) this.dupSamples.push({ seq: e.seq, lastSeq: this.lastSeq, current: socket === this.socket, resyncing: this.resyncing !== null, resyncs: this.resyncs });
          continue;
        }
        this.lastSeq = e.seq;
        this.seqs.push(e.seq);
      }
    });
    socket.on('gap', () => {
      this.gaps++;
      void this.resync();
    });
    socket.once('disconnect', () => {
      if (this.closed) return;
      this.reconnects++;
      void this.reconnect();
    });
  }

  private async reconnect(): Promise<void> {
    // as a real client does: retry until it is closed (a loaded machine may refuse or time out several handshakes)
    while (!this.closed) {
      try {
        await this.connect();
        await this.resync();
        return;
      } catch {
        await sleep(200);
      }
    }
  }

  private resyncing: Promise<void> | null = null;
  private resyncAgain = false;

  /**
   * Resubscribes from the last seq, one subscribe at a time (a `gap` arriving while one is in flight runs another
   * after it, from the then last seq: two overlapping replays would send the same seqs twice).
   */
  resync(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      try {
        do {
          this.resyncAgain = false;
          await this.subscribeFromLast();
        } while (this.resyncAgain && !this.closed);
      } finally {
        this.resyncing = null;
      }
    })();
    return this.resyncing;
  }

  /** One resubscribe; retried while the ack times out or is refused and the socket is still the open one. */
  private async subscribeFromLast(): Promise<void> {
    this.resyncs++;
    for (;;) {
      const socket = this.socket;
      // the ack comes after the replay, which may queue behind other replays (REALTIME_REPLAY_CONCURRENCY): wait long
      const ack = await socket
        .timeout(60_000)
        .emitWithAck('subscribe', { channel: 'all', since: this.lastSeq })
        .catch(() => null);
      if (ack && ack.ok && ack.gap) throw new Error(`replay refused with gap at ${this.lastSeq}`);
      if (ack && ack.ok) return;
      this.failedResyncs++;
      if (this.failures.length < 3) this.failures.push(ack ? JSON.stringify(ack) : 'ack timeout');
      // a dropped socket is the reconnect loop's to resubscribe
      if (this.closed || socket !== this.socket || !socket.connected) return;
    }
  }

  pause(): void {
    this.paused = true;
    this.tcp.pause();
  }

  resume(): void {
    this.paused = false;
    this.tcp.resume();
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }
}

describe('slow realtime consumers keep server memory bounded (issue 11 section 2)', () => {
  let server: Server;
  let dir: string;
  let key: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'mc-rt-memory-'));
    server = await startServer({ SQLITE_PATH: join(dir, 'rt.db'), LOG_LEVEL: 'error' });
    key = await createKeyWithPassword(server.url, 'admin', ADMIN_PASSWORD, 'admin');
  }, 120_000);
  afterAll(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`20 clients pausing and resuming during ${RATE_PER_S}/s of ${EVENT_KB} kB events: RSS <= 400 MB, every event once, in order`, async () => {
    const pid = server.proc.pid!;
    const clients: SlowClient[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const c = new SlowClient(server.url, key);
      await c.connect();
      expect(await subscribe(c.socket, 'all', 0)).toMatchObject({ ok: true, gap: false });
      clients.push(c);
    }
    const baseline = rssMb(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
    const heap: string[] = [];
    const heapSampler = setInterval(() => {
      void fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })
        .then((r) => r.text())
        .then((t) => {
          const g = (n: string) => Math.round(Number(new RegExp(`^mission_control_${n}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(t)?.[1] ?? 0) / 1048576);
          heap.push(`${/RssFile:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]}k/${Math.round(rssMb(pid))}/${g('nodejs_heap_size_total_bytes')}/${g('nodejs_heap_size_used_bytes')}/${g('nodejs_external_memory_bytes')}`);
        })
        .catch(() => undefined);
    }, 2000);

    // each client: paused 8 s, reading 1.5 s (staggered), so it is shed, resubscribes and replays while pausing again
    let producing = true;
    const cycles = clients.map(async (c, i) => {
      await sleep((i * 9500) / CLIENTS);
      while (producing) {
        c.pause();
        await sleep(8000);
        c.resume();
        await sleep(1500);
      }
    });

    const blob = 'x'.repeat(EVENT_KB * 1024);
    const appended: number[] = [];
    const started = Date.now();
    let sent = 0;
    const inFlight = new Set<Promise<void>>();
    while (Date.now() - started < PRODUCE_S * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * RATE_PER_S);
      while (sent < due) {
        const n = sent++;
        const p: Promise<void> = fetch(`${server.url}/api/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'tool.called', data: { tool: 'bench', n, blob } }),
        })
          .then(async (res) => {
            expect(res.status).toBe(201);
            appended.push(((await res.json()) as EventEnvelope).seq);
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await sleep(5);
    }
    await Promise.all(inFlight);
    producing = false;
    await Promise.all(cycles);
    for (const c of clients) c.resume();

    // every acknowledged event reaches every client, exactly once after seq de-duplication, in seq order
    const head = Math.max(...appended);
    const deadline = Date.now() + 120_000;
    while (clients.some((c) => c.lastSeq < head) && Date.now() < deadline) await sleep(100);
    clearInterval(sampler);
    clearInterval(heapSampler);
    process.stdout.write(`server memory every 2 s, rssFile kB/rss/heapTotal/heapUsed/external MB: ${heap.join(' ')}\n`);
    const shed = clients.reduce((n, c) => n + c.gaps, 0);
    const rss = { baselineMb: Math.round(baseline), peakMb: Math.round(peak), shed, reconnects: clients.reduce((n, c) => n + c.reconnects, 0), duplicatesDropped: clients.reduce((n, c) => n + c.duplicates, 0), appended: appended.length };
    process.stdout.write(`realtime-memory: ${JSON.stringify(rss)}\n`);
    const dups = clients.filter((c) => c.duplicates > 0).map((c) => ({ n: c.duplicates, samples: c.dupSamples.slice(0, 2), failures: c.failures, failedResyncs: c.failedResyncs }));
    if (dups.length > 0) process.stdout.write(`realtime-memory: duplicates ${JSON.stringify(dups)}\n`);
    const lagging = clients.filter((c) => c.lastSeq < head);
    if (lagging.length > 0) {
      const state = lagging.map((c) => ({ lastSeq: c.lastSeq, gaps: c.gaps, resyncs: c.resyncs, failedResyncs: c.failedResyncs, reconnects: c.reconnects, connected: c.socket.connected }));
      process.stdout.write(`realtime-memory: lagging clients (head ${head}): ${JSON.stringify(state)}\n`);
    }

    expect(appended).toHaveLength(sent);
    // the scenario did make them slow consumers: the server shed them (`gap`) or, on a loaded machine where a paused
    // client misses the ping deadline first, dropped the connection; either way its backlog left server memory
    expect(shed + rss.reconnects).toBeGreaterThan(0);
    for (const c of clients) {
      expect(c.lastSeq).toBeGreaterThanOrEqual(head);
      const got = new Set(c.seqs);
      expect(got.size).toBe(c.seqs.length);
      expect(appended.filter((s) => !got.has(s))).toHaveLength(0);
    }
    expect(peak).toBeLessThanOrEqual(400);
    for (const c of clients) c.close();
  }, 240_000);
});
