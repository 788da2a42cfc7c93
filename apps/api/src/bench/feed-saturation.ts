/**
 * `pnpm bench:feed --saturation` (or BENCH_FEED_MODE=saturation): the saturation point of the feed, ours and a
 * plain Socket.IO peer's, in the same run.
 *
 * For each N in BENCH_SAT_N (default 100,500,1000) subscribers (socket.io-client, websocket, spread over
 * BENCH_SUB_PROCS child processes, default 2), the highest event rate (events/s) a server sustains for one step of
 * BENCH_SAT_STEP_S seconds (default 5) with
 *   - delivery p99 (append -> receipt at the client, ms, merged over all clients) <= BENCH_SAT_P99_MS (default 250),
 *   - 0 loss (every subscriber gets every event of the step), 0 duplicates, 0 out of order (seq order), and
 *   - the producer keeping up (all events of the step appended within 10 % + 100 ms of the step),
 * found by doubling from BENCH_SAT_START (default 200,000 / N events/s) until a step fails (halving when the first
 * one fails), then bisecting (geometric mean) until the highest pass and the lowest fail are within
 * BENCH_SAT_PRECISION (default 0.1 = 10 %), at most BENCH_SAT_MAX_STEPS steps (default 12) and BENCH_SAT_MAX
 * events/s (default 50,000). A 1 s warm-up step at the start rate precedes every search and is not counted.
 *
 * Ours: the API in this process on a fresh SQLite file, events appended through EventLogWriter.append (one call per
 * event, group commit), delivered as coalesced `events` frames. The peer (feed-peer.ts): a plain Socket.IO server in
 * its own process emitting one `event` message per event, fed by an equivalent paced producer in that process.
 * The JSON last line has, per N, both rates and ours / peer.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { minMedian, now, numberList, percentile, perClientEps, sleep, SubscriberPool } from './feed-harness';

/** A server under test: where subscribers connect and how it produces `rate` events/s for `durationS` s. */
export interface FeedTarget {
  name: 'ours' | 'peer';
  url: string;
  token: string;
  /** Produces the step's events, each tagged `data.step = step`; resolves with the count and the wall time (s). */
  produce(rate: number, durationS: number, step: string): Promise<{ sent: number; wallS: number }>;
}

/** One step of a search: the figures at one rate (events/s) and whether it passed. */
export interface StepResult {
  rate_eps: number;
  pass: boolean;
  p50_ms: number;
  p99_ms: number;
  /** events not received, summed over subscribers */
  lost: number;
  duplicates: number;
  out_of_order: number;
  /** slow-consumer notices (ours sheds a client that falls behind; the peer never does) */
  gaps: number;
  /** sockets disconnected during the step (connected again before the next one) */
  disconnects: number;
  /** the producer needed more than the step (+10 % + 100 ms) to emit the step's events */
  producer_behind: boolean;
  /** lowest per-client delivered rate, events/s */
  delivered_eps_min: number;
  subscriber_cpu_pct: number;
  /** the machine's 1-minute load average at the end of the step (other work on a shared machine shows here) */
  load1: number;
}

/** Settings of a saturation run (all from the environment, see the file comment). */
export interface SaturationSettings {
  ns: number[];
  stepS: number;
  p99MaxMs: number;
  start: (n: number) => number;
  maxRate: number;
  precision: number;
  maxSteps: number;
  procs: number;
  quietMs: number;
}

/** Reads the saturation settings from the environment. */
export function saturationSettings(env: NodeJS.ProcessEnv = process.env): SaturationSettings {
  const fixedStart = env.BENCH_SAT_START ? Number(env.BENCH_SAT_START) : undefined;
  const maxRate = Number(env.BENCH_SAT_MAX ?? 50_000);
  const stepS = Number(env.BENCH_SAT_STEP_S ?? 5);
  return {
    ns: numberList(env.BENCH_SAT_N ?? '100,500,1000'),
    stepS,
    p99MaxMs: Number(env.BENCH_SAT_P99_MS ?? 250),
    start: (n) => Math.min(maxRate, fixedStart ?? Math.max(10, Math.round(200_000 / n))),
    maxRate,
    precision: Number(env.BENCH_SAT_PRECISION ?? 0.1),
    maxSteps: Number(env.BENCH_SAT_MAX_STEPS ?? 12),
    procs: Number(env.BENCH_SUB_PROCS ?? 2),
    quietMs: Number(env.BENCH_SAT_QUIET_MS ?? Math.max(1500, Math.min(3000, stepS * 500))),
  };
}

/** Runs one step at `rate` events/s against `target` with the subscribers of `pool`. */
export async function runStep(pool: SubscriberPool, target: FeedTarget, rate: number, s: SaturationSettings, step: string): Promise<StepResult> {
  await pool.reset(step);
  const { sent, wallS } = await target.produce(rate, s.stepS, step);
  const rep = await pool.report(sent, s.quietMs);
  const lost = rep.received.reduce((a, r) => a + Math.max(0, sent - r), 0);
  const p99 = percentile(rep.histogram, 0.99);
  const producerBehind = wallS > s.stepS * 1.1 + 0.1;
  const result: StepResult = {
    rate_eps: rate,
    pass: false,
    p50_ms: percentile(rep.histogram, 0.5),
    p99_ms: p99,
    lost,
    duplicates: rep.duplicates,
    out_of_order: rep.outOfOrder,
    gaps: rep.gaps,
    disconnects: rep.disconnects,
    producer_behind: producerBehind,
    delivered_eps_min: Math.round(minMedian(perClientEps(rep)).min),
    subscriber_cpu_pct: rep.cpuPct,
    load1: Math.round(loadavg()[0] * 100) / 100,
  };
  result.pass = p99 <= s.p99MaxMs && lost === 0 && rep.disconnects === 0 && rep.duplicates === 0 && rep.outOfOrder === 0 && !producerBehind;
  return result;
}

/**
 * Finds the highest passing rate (events/s) of `target` at `n` subscribers (0 when even the lowest tried rate
 * fails). Returns it with every step run.
 */
export async function saturate(target: FeedTarget, n: number, s: SaturationSettings): Promise<{ rate_eps: number; steps: StepResult[] }> {
  const pool = await SubscriberPool.start([target.url], target.token, n, s.procs);
  const steps: StepResult[] = [];
  try {
    await sleep(300);
    await runStep(pool, target, s.start(n), { ...s, stepS: 1 }, `${target.name}-n${n}-warmup`);
    let lo = 0;
    let hi = Infinity;
    let rate = s.start(n);
    for (let k = 0; k < s.maxSteps; k++) {
      const r = await runStep(pool, target, rate, s, `${target.name}-n${n}-${k}`);
      steps.push(r);
      process.stderr.write(`saturation ${target.name} N=${n} step ${k}: ${JSON.stringify(r)}\n`);
      if (r.pass) lo = Math.max(lo, rate);
      else hi = Math.min(hi, rate);
      let nextRate: number;
      if (hi === Infinity) {
        if (rate >= s.maxRate) break;
        nextRate = Math.min(s.maxRate, rate * 2);
      } else if (lo === 0) {
        if (rate <= 10) break;
        nextRate = Math.max(10, Math.round(rate / 2));
      } else {
        if (hi / lo <= 1 + s.precision) break;
        nextRate = Math.round(Math.sqrt(lo * hi));
      }
      if (nextRate === rate || nextRate === lo || nextRate === hi) break;
      rate = nextRate;
      // let the machine settle after a failed step (backlogs, GC) before the next one
      if (!r.pass) await sleep(2000);
    }
    return { rate_eps: lo, steps };
  } finally {
    await pool.close();
    await sleep(300);
  }
}

/** Forks the peer (feed-peer.js) and returns it as a FeedTarget plus its closer. */
export async function startPeer(): Promise<{ target: FeedTarget; close(): Promise<void> }> {
  const child: ChildProcess = fork(join(__dirname, 'feed-peer.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { listening?: string }) => m.listening && resolve(m.listening));
    child.once('exit', (code) => reject(new Error(`peer exited with ${code}`)));
  });
  const target: FeedTarget = {
    name: 'peer',
    url,
    token: 'peer',
    produce: (rate, durationS, step) =>
      new Promise((resolve) => {
        const on = (m: { done?: { sent: number; wallS: number } }) => {
          if (!m.done) return;
          child.off('message', on);
          resolve(m.done);
        };
        child.on('message', on);
        child.send({ cmd: 'run', rate, durationS, step });
      }),
  };
  return {
    target,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ cmd: 'close' });
      }),
  };
}

/**
 * Ours as a FeedTarget: a paced producer (every 10 ms, the events due so far, one `append` per event, all in
 * flight at once so group commit batches them) in this process.
 */
export function oursTarget(url: string, token: string, append: (data: Record<string, unknown>) => Promise<unknown>): FeedTarget {
  return {
    name: 'ours',
    url,
    token,
    produce: async (rate, durationS, step) => {
      const total = Math.round(rate * durationS);
      const wall0 = now();
      let sent = 0;
      const pending: Promise<unknown>[] = [];
      while (sent < total) {
        const due = Math.min(total, Math.floor(((now() - wall0) / 1000) * rate));
        for (; sent < due; sent++) pending.push(append({ message: 'b', t: now(), i: sent, step }));
        await sleep(10);
      }
      await Promise.all(pending);
      return { sent, wallS: (now() - wall0) / 1000 };
    },
  };
}

/** Runs the whole saturation benchmark (ours, then the peer, per N) and prints the JSON last line. */
export async function runSaturation(ours: FeedTarget, s: SaturationSettings = saturationSettings()): Promise<Record<string, unknown>> {
  const peer = await startPeer();
  const results: Record<string, unknown>[] = [];
  const steps: Record<string, { ours: StepResult[]; peer: StepResult[] }> = {};
  try {
    for (const n of s.ns) {
      const a = await saturate(ours, n, s);
      const b = await saturate(peer.target, n, s);
      const entry = {
        n,
        ours_eps: a.rate_eps,
        peer_eps: b.rate_eps,
        ratio: b.rate_eps > 0 ? Math.round((a.rate_eps / b.rate_eps) * 100) / 100 : null,
        ours_p99_ms: a.steps.find((x) => x.rate_eps === a.rate_eps && x.pass)?.p99_ms ?? null,
        peer_p99_ms: b.steps.find((x) => x.rate_eps === b.rate_eps && x.pass)?.p99_ms ?? null,
        ours_capped: a.rate_eps >= s.maxRate,
        peer_capped: b.rate_eps >= s.maxRate,
      };
      results.push(entry);
      steps[`n${n}`] = { ours: a.steps, peer: b.steps };
      process.stderr.write(`saturation N=${n}: ${JSON.stringify(entry)}\n`);
    }
  } finally {
    await peer.close();
  }
  return { bench: 'feed', mode: 'saturation', step_s: s.stepS, p99_max_ms: s.p99MaxMs, subscriber_procs: s.procs, results, steps };
}
