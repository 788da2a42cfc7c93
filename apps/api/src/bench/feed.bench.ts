/**
 * `pnpm bench:feed`: event-spine throughput and fan-out latency (issue 2, section 11).
 *
 * 1. Ingest alone: events appended through EventLogWriter.append (the path every domain service uses),
 *    many appends in flight at once so group commit batches them.
 * 2. Fan-out: for N = 1, 100, 500 subscribers (socket.io-client, websocket, in ONE separate process), a paced
 *    producer appends events at a target rate for DURATION seconds; each event carries its append time `t` (epoch ms,
 *    sub-ms) so the subscriber process computes append-to-receipt latency. Reports delivered events/s per client,
 *    p50/p99 latency, loss, and the server process's CPU (% of one core) and peak RSS.
 * The last line printed is one JSON object with every figure.
 * Env: BENCH_DURATION_S (default 5), BENCH_INGEST_EVENTS (default 100000), BENCH_RATES "1:10000,100:5000,500:1500".
 *
 * Other modes (the fixed-rate run above is the default):
 * - `--saturation` (or BENCH_FEED_MODE=saturation): the highest sustained rate per N with p99 <= 250 ms and 0 loss,
 *   ours and a plain Socket.IO peer's, and their ratio (feed-saturation.ts).
 * - `--instances K` (or BENCH_FEED_INSTANCES=K): K API processes on one PostgreSQL and Redis (feed-instances.ts).
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../app.factory';
import { AuthService } from '../auth/auth.service';
import { loadConfig } from '../config/app-config';
import { EventLogWriter } from '../event-log/event-log.writer';
import { instancesSettings, runInstances } from './feed-instances';
import { oursTarget, runSaturation } from './feed-saturation';
import type { SubscriberReport } from './feed-subscribers';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(hist: number[], p: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i];
    if (acc >= total * p) return i;
  }
  return hist.length - 1;
}

/** The mode from the command line (`--saturation`, `--instances K`) or the environment; fixed-rate by default. */
function parseMode(argv: string[]): { mode: 'fixed' | 'saturation' | 'instances'; instances: number } {
  const i = argv.findIndex((a) => a === '--instances' || a.startsWith('--instances='));
  const flagK = i < 0 ? undefined : argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  const k = Number(flagK ?? process.env.BENCH_FEED_INSTANCES ?? 0);
  if (i >= 0 && !(Number.isInteger(k) && k >= 1)) throw new Error(`--instances needs a count >= 1 (got ${flagK})`);
  if (k >= 1) return { mode: 'instances', instances: k };
  if (argv.includes('--saturation') || process.env.BENCH_FEED_MODE === 'saturation') return { mode: 'saturation', instances: 0 };
  return { mode: 'fixed', instances: 0 };
}

async function main(): Promise<void> {
  const { mode, instances } = parseMode(process.argv.slice(2));
  // the stepped modes note the machine: a shared 2-core box's other load moves every figure
  const load0 = loadavg().map((x) => Math.round(x * 100) / 100);
  const machine = () => ({ cpus: cpus().length, loadavg_start: load0, loadavg_end: loadavg().map((x) => Math.round(x * 100) / 100) });
  if (mode === 'instances') {
    const result = await runInstances(instancesSettings(instances));
    process.stdout.write(`${JSON.stringify({ ...result, machine: machine() })}\n`);
    return;
  }
  const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
  const ingestEvents = Number(process.env.BENCH_INGEST_EVENTS ?? 100_000);
  const rates = (process.env.BENCH_RATES ?? '1:10000,100:5000,500:1500').split(',').map((p) => p.split(':').map(Number) as [number, number]);
  const dir = mkdtempSync(join(tmpdir(), 'mc-bench-'));
  const config = loadConfig({
    SQLITE_PATH: join(dir, 'bench.db'),
    ADMIN_PASSWORD: 'bench-admin-password',
    LOG_LEVEL: 'error',
    WEB_DIST: '',
    REDIS_URL: '',
    // N subscribers share one key and one IP here: the realtime edge limits are not what this benchmark measures
    REALTIME_HANDSHAKES_PER_IP: 0,
    REALTIME_MAX_SOCKETS_PER_PRINCIPAL: 0,
    REALTIME_MAX_SOCKETS_PER_IP: 0,
    DATABASE_URL: '',
    EVENT_PRUNE_INTERVAL_MS: 86_400_000,
    SOCKET_MAX_BUFFERED_FRAMES: 1024,
  });
  delete (config as { DATABASE_URL?: string }).DATABASE_URL;
  delete (config as { REDIS_URL?: string }).REDIS_URL;
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const events = app.get(EventLogWriter);
  const auth = app.get(AuthService);
  const { principal } = await auth.login('admin', 'bench-admin-password', '127.0.0.1');
  const { key: token } = await auth.createUserApiKey('bench', 'admin', principal);

  if (mode === 'saturation') {
    const ours = oursTarget(url, token, (data) => events.append([{ type: 'system.info', source: 'bench', data: data as { message: string } }]));
    const result = await runSaturation(ours);
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`${JSON.stringify({ ...result, machine: machine() })}\n`);
    return;
  }

  // 1. ingest alone
  const inFlight = 2000;
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < ingestEvents) {
        const i = next++;
        await events.append([{ type: 'system.info', source: 'bench', data: { message: 'b', i } }]);
      }
    }),
  );
  const ingestEps = Math.round(ingestEvents / ((now() - t0) / 1000));
  process.stderr.write(`ingest: ${ingestEvents} events, ${ingestEps} events/s\n`);

  const results: Record<string, unknown> = {};
  for (const [n, rate] of rates) {
    const child = fork(join(__dirname, 'feed-subscribers.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = new Promise<void>((resolve, reject) =>
      child.on('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : m.error ? reject(new Error(m.error)) : undefined)),
    );
    child.send({ cmd: 'start', url, token, n });
    await ready;
    await sleep(300);
    // paced producer: every 10 ms append the events due so far, one append per event (group commit batches them)
    const total = Math.round(rate * durationS);
    const cpu0 = process.cpuUsage();
    const wall0 = now();
    let sent = 0;
    let peakRss = process.memoryUsage().rss;
    const pending: Promise<unknown>[] = [];
    while (sent < total) {
      const due = Math.min(total, Math.floor(((now() - wall0) / 1000) * rate));
      const batch: Promise<unknown>[] = [];
      for (; sent < due; sent++) batch.push(events.append([{ type: 'system.info', source: 'bench', data: { message: 'b', t: now(), i: sent } }]));
      pending.push(Promise.all(batch));
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      await sleep(10);
    }
    await Promise.all(pending);
    const appendWallS = (now() - wall0) / 1000;
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const report = await new Promise<SubscriberReport>((resolve) => {
      child.on('message', (m: { report?: SubscriberReport }) => m.report && resolve(m.report));
      child.send({ cmd: 'report', expected: total });
    });
    clearInterval(rssTimer);
    const cpu = process.cpuUsage(cpu0);
    const wallS = (now() - wall0) / 1000;
    const perClientEps = report.received.map((r, i) => (report.spanMs[i] > 0 ? r / (report.spanMs[i] / 1000) : 0));
    const lost = report.received.reduce((a, r) => a + (total - r), 0);
    const entry = {
      target_eps: rate,
      persisted_eps: Math.round(total / appendWallS),
      delivered_eps_min: Math.round(Math.min(...perClientEps)),
      delivered_eps_median: Math.round(perClientEps.sort((a, b) => a - b)[Math.floor(perClientEps.length / 2)]),
      p50_ms: percentile(report.histogram, 0.5),
      p99_ms: percentile(report.histogram, 0.99),
      lost,
      duplicates: report.duplicates,
      gaps: report.gaps,
      subscriber_cpu_pct: report.cpuPct,
      server_cpu_pct: Math.round(((cpu.user + cpu.system) / 1000 / (wallS * 1000)) * 100),
      server_rss_mb: Math.round(peakRss / 1_048_576),
    };
    results[`n${n}`] = entry;
    process.stderr.write(`N=${n}: ${JSON.stringify(entry)}\n`);
    await new Promise((r) => child.once('exit', r));
    await sleep(500);
  }
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ bench: 'feed', ingest_eps: ingestEps, duration_s: durationS, ...results })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
