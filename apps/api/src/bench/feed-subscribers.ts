/**
 * Child process of `pnpm bench:feed`: opens N socket.io-client subscribers to `all` and counts what they receive.
 * Kept lean on purpose (decode + count + one histogram bucket per event). Talks to the parent over IPC:
 *   parent -> { cmd: 'start', url, token, n }   child -> { ready: true }
 *   parent -> { cmd: 'report', expected }        child -> { report: SubscriberReport }
 * On `report` the child first waits until every client has `expected` events or nothing arrived for 3 s, so events
 * still in flight are not counted as lost.
 *
 * Stepped runs (saturation and `--instances`) use the same process for many steps:
 *   start also takes `urls` (socket i connects to urls[(offset + i) % urls.length]) instead of `url`;
 *   parent -> { cmd: 'reset', step }     child -> { reset: true, resubscribed }: zero the counters, count from now on
 *                                        only events whose `data.step` equals `step`, and resubscribe the sockets the
 *                                        server shed as slow consumers (`gap`) in an earlier step (and connect again
 *                                        the sockets that were disconnected);
 *   parent -> { cmd: 'report', expected, keep: true, quietMs } reports without closing;
 *   parent -> { cmd: 'close' } closes the sockets and exits.
 * Both the product's `events` frames (arrays of envelopes) and a plain server's `event` messages (one envelope each,
 * the peer of the saturation benchmark) are counted.
 */
import { io, type Socket } from 'socket.io-client';

export interface SubscriberReport {
  clients: number;
  /** events received per client */
  received: number[];
  /** per client: ms between first and last receipt */
  spanMs: number[];
  /** latency histogram, 1 ms buckets (index = ms), merged over clients */
  histogram: number[];
  /** per url index (stepped runs with `urls`): latency histogram of the clients on that url, 1 ms buckets */
  histogramByUrl?: number[][];
  /** per client: index of the url it is connected to */
  urlIndex?: number[];
  duplicates: number;
  /** events whose seq is lower than the previous one the client received (also counted in `duplicates`) */
  outOfOrder?: number;
  gaps: number;
  /** sockets that disconnected (since the last reset) */
  disconnects?: number;
  /** CPU of this subscriber process while receiving, % of one core */
  cpuPct: number;
}

/** IPC message from the parent (see the file comment). */
interface ParentMessage {
  cmd: 'start' | 'reset' | 'report' | 'close';
  url?: string;
  urls?: string[];
  offset?: number;
  token?: string;
  n?: number;
  expected?: number;
  step?: string;
  keep?: boolean;
  quietMs?: number;
}

interface BenchEnvelope {
  seq: number;
  data: { t?: number; step?: string };
}

const HIST_MAX_MS = 10_000;

function run(): void {
  const sockets: Socket[] = [];
  const received: number[] = [];
  const first: number[] = [];
  const last: number[] = [];
  const lastSeq: number[] = [];
  const urlIndex: number[] = [];
  const shed = new Set<number>();
  let urlCount = 1;
  let histogram = new Array<number>(HIST_MAX_MS + 1).fill(0);
  let histogramByUrl: number[][] = [];
  let duplicates = 0;
  let outOfOrder = 0;
  let gaps = 0;
  let disconnects = 0;
  let step: string | undefined;
  const now = () => performance.timeOrigin + performance.now();

  const sum = () => received.reduce((a, b) => a + b, 0);
  let cpuStart = process.cpuUsage();
  let wallStart = 0;
  const drain = async (expected: number, quietMs: number) => {
    let before = -1;
    let quietSince = Date.now();
    while (received.some((r) => r < expected) && Date.now() - quietSince < quietMs) {
      await new Promise((r) => setTimeout(r, 100));
      const now2 = sum();
      if (now2 !== before) {
        before = now2;
        quietSince = Date.now();
      }
    }
  };

  const onEvents = (i: number, events: BenchEnvelope[]) => {
    const t = now();
    for (const e of events) {
      if (step !== undefined && e.data?.step !== step) continue;
      if (e.seq <= lastSeq[i]) {
        duplicates++;
        if (e.seq < lastSeq[i]) outOfOrder++;
        continue;
      }
      if (first[i] === 0) first[i] = t;
      last[i] = t;
      lastSeq[i] = e.seq;
      received[i]++;
      if (e.data.t !== undefined) {
        const ms = Math.max(0, Math.min(HIST_MAX_MS, Math.round(t - e.data.t)));
        histogram[ms]++;
        if (histogramByUrl.length > 0) histogramByUrl[urlIndex[i]][ms]++;
      }
    }
  };

  const subscribe = (s: Socket) => new Promise<void>((resolve) => s.emit('subscribe', { channel: 'all' }, () => resolve()));

  process.on('message', (msg: ParentMessage) => {
    if (msg.cmd === 'start') {
      const n = msg.n ?? 1;
      const urls = msg.urls ?? [msg.url!];
      urlCount = urls.length;
      if (msg.urls) histogramByUrl = urls.map(() => new Array<number>(HIST_MAX_MS + 1).fill(0));
      let ready = 0;
      for (let i = 0; i < n; i++) {
        received.push(0);
        first.push(0);
        last.push(0);
        lastSeq.push(0);
        urlIndex.push(((msg.offset ?? 0) + i) % urlCount);
        const s = io(`${urls[urlIndex[i]]}/live`, { auth: { token: msg.token }, transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(s);
        s.on('events', (events: BenchEnvelope[]) => onEvents(i, events));
        s.on('event', (e: BenchEnvelope) => onEvents(i, [e]));
        s.on('gap', () => {
          gaps++;
          shed.add(i);
        });
        s.on('disconnect', () => disconnects++);
        s.on('connect', () => {
          void subscribe(s).then(() => {
            ready++;
            if (ready === n) {
              cpuStart = process.cpuUsage();
              wallStart = performance.now();
              process.send!({ ready: true });
            }
          });
        });
        s.on('connect_error', (err: Error) => {
          process.send!({ error: err.message });
        });
      }
    } else if (msg.cmd === 'reset') {
      step = msg.step;
      const again = [...shed];
      shed.clear();
      // sockets the server dropped (an overloaded plain server misses its pings): connect again, then subscribe
      const dead = sockets.map((s, i) => (s.connected ? -1 : i)).filter((i) => i >= 0);
      const reconnect = (s: Socket) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 10_000);
          s.once('connect', () => {
            clearTimeout(timer);
            void subscribe(s).then(resolve);
          });
          s.connect();
        });
      void Promise.all([...again.filter((i) => !dead.includes(i)).map((i) => subscribe(sockets[i])), ...dead.map((i) => reconnect(sockets[i]))]).then(() => {
        received.fill(0);
        first.fill(0);
        last.fill(0);
        histogram = new Array<number>(HIST_MAX_MS + 1).fill(0);
        histogramByUrl = histogramByUrl.map(() => new Array<number>(HIST_MAX_MS + 1).fill(0));
        duplicates = 0;
        outOfOrder = 0;
        gaps = 0;
        disconnects = 0;
        cpuStart = process.cpuUsage();
        wallStart = performance.now();
        process.send!({ reset: true, resubscribed: again.length + dead.length });
      });
    } else if (msg.cmd === 'report') {
      void drain(msg.expected ?? 0, msg.quietMs ?? 3000).then(() => sendReport(msg.keep === true));
    } else if (msg.cmd === 'close') {
      for (const s of sockets) s.close();
      setTimeout(() => process.exit(0), 100);
    }
  });

  function sendReport(keep: boolean): void {
    const cpu = process.cpuUsage(cpuStart);
    const report: SubscriberReport = {
      cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, performance.now() - wallStart)) * 100),
      clients: sockets.length,
      received: [...received],
      spanMs: first.map((f, i) => last[i] - f),
      histogram,
      duplicates,
      gaps,
    };
    if (step !== undefined) {
      report.outOfOrder = outOfOrder;
      report.disconnects = disconnects;
      if (histogramByUrl.length > 0) {
        report.histogramByUrl = histogramByUrl;
        report.urlIndex = [...urlIndex];
      }
    }
    process.send!({ report });
    if (keep) return;
    for (const s of sockets) s.close();
    setTimeout(() => process.exit(0), 100);
  }
}

run();
