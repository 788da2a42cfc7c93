/**
 * Child process of `pnpm bench:feed`: opens N socket.io-client subscribers to `all` and counts what they receive.
 * Kept lean on purpose (decode + count + one histogram bucket per event). Talks to the parent over IPC:
 *   parent -> { cmd: 'start', url, token, n }   child -> { ready: true }
 *   parent -> { cmd: 'report', expected }        child -> { report: SubscriberReport }
 * On `report` the child first waits until every client has `expected` events or nothing arrived for 3 s, so events
 * still in flight are not counted as lost.
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
  duplicates: number;
  gaps: number;
  /** CPU of this subscriber process while receiving, % of one core */
  cpuPct: number;
}

const HIST_MAX_MS = 10_000;

function run(): void {
  const sockets: Socket[] = [];
  const received: number[] = [];
  const first: number[] = [];
  const last: number[] = [];
  const lastSeq: number[] = [];
  const histogram = new Array<number>(HIST_MAX_MS + 1).fill(0);
  let duplicates = 0;
  let gaps = 0;
  const now = () => performance.timeOrigin + performance.now();

  const sum = () => received.reduce((a, b) => a + b, 0);
  let cpuStart = process.cpuUsage();
  let wallStart = 0;
  const drain = async (expected: number) => {
    let before = -1;
    let quietSince = Date.now();
    while (received.some((r) => r < expected) && Date.now() - quietSince < 3000) {
      await new Promise((r) => setTimeout(r, 100));
      const now2 = sum();
      if (now2 !== before) {
        before = now2;
        quietSince = Date.now();
      }
    }
  };

  process.on('message', (msg: { cmd: string; url?: string; token?: string; n?: number; expected?: number }) => {
    if (msg.cmd === 'start') {
      const n = msg.n ?? 1;
      let ready = 0;
      for (let i = 0; i < n; i++) {
        received.push(0);
        first.push(0);
        last.push(0);
        lastSeq.push(0);
        const s = io(`${msg.url}/live`, { auth: { token: msg.token }, transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(s);
        s.on('events', (events: { seq: number; data: { t?: number } }[]) => {
          const t = now();
          if (first[i] === 0) first[i] = t;
          last[i] = t;
          for (const e of events) {
            if (e.seq <= lastSeq[i]) {
              duplicates++;
              continue;
            }
            lastSeq[i] = e.seq;
            received[i]++;
            if (e.data.t !== undefined) {
              const ms = Math.max(0, Math.min(HIST_MAX_MS, Math.round(t - e.data.t)));
              histogram[ms]++;
            }
          }
        });
        s.on('gap', () => gaps++);
        s.on('connect', () => {
          s.emit('subscribe', { channel: 'all' }, () => {
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
    } else if (msg.cmd === 'report') {
      void drain(msg.expected ?? 0).then(() => sendReport());
    }
  });

  function sendReport(): void {
    {
      const cpu = process.cpuUsage(cpuStart);
      const report: SubscriberReport = {
        cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, performance.now() - wallStart)) * 100),
        clients: sockets.length,
        received,
        spanMs: first.map((f, i) => last[i] - f),
        histogram,
        duplicates,
        gaps,
      };
      process.send!({ report });
      for (const s of sockets) s.close();
      setTimeout(() => process.exit(0), 100);
    }
  }
}

run();
