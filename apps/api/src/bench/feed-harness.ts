/**
 * Shared pieces of the stepped `bench:feed` modes (saturation, `--instances`): a pool of subscriber child processes
 * (feed-subscribers.ts) driven step by step, and the figures computed from their merged reports.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SubscriberReport } from './feed-subscribers';

/** Wall-clock time in epoch ms with sub-ms resolution (comparable across processes on one machine). */
export const now = (): number => performance.timeOrigin + performance.now();

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The value (ms) below which a fraction `p` of a 1 ms-bucket histogram lies; NaN when it is empty. */
export function percentile(hist: number[], p: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i];
    if (acc >= total * p) return i;
  }
  return hist.length - 1;
}

/** Parses a comma-separated list of positive numbers (e.g. BENCH_SAT_N="100,500,1000"). */
export function numberList(raw: string): number[] {
  return raw
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isFinite(n) && n > 0);
}

/** Reports of several subscriber processes merged into one (clients concatenated, histograms and counters summed). */
export function mergeReports(reports: SubscriberReport[]): Required<SubscriberReport> & { cpuPctEach: number[] } {
  const histogram = reports[0].histogram.map((_, ms) => reports.reduce((a, r) => a + r.histogram[ms], 0));
  const urls = reports[0].histogramByUrl?.length ?? 0;
  const histogramByUrl = Array.from({ length: urls }, (_, u) => histogram.map((_v, ms) => reports.reduce((a, r) => a + (r.histogramByUrl?.[u][ms] ?? 0), 0)));
  return {
    clients: reports.reduce((a, r) => a + r.clients, 0),
    received: reports.flatMap((r) => r.received),
    spanMs: reports.flatMap((r) => r.spanMs),
    urlIndex: reports.flatMap((r) => r.urlIndex ?? r.received.map(() => 0)),
    histogram,
    histogramByUrl,
    duplicates: reports.reduce((a, r) => a + r.duplicates, 0),
    outOfOrder: reports.reduce((a, r) => a + (r.outOfOrder ?? 0), 0),
    gaps: reports.reduce((a, r) => a + r.gaps, 0),
    disconnects: reports.reduce((a, r) => a + (r.disconnects ?? 0), 0),
    cpuPct: reports.reduce((a, r) => a + r.cpuPct, 0),
    cpuPctEach: reports.map((r) => r.cpuPct),
  };
}

/** Per-client delivered rate (events/s) from a merged report: events received over the span from first to last. */
export function perClientEps(report: { received: number[]; spanMs: number[] }): number[] {
  return report.received.map((r, i) => (report.spanMs[i] > 0 ? r / (report.spanMs[i] / 1000) : 0));
}

/** Minimum and median of a list (0 when empty). */
export function minMedian(xs: number[]): { min: number; median: number } {
  if (xs.length === 0) return { min: 0, median: 0 };
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)] };
}

/**
 * N socket.io-client subscribers spread over `procs` child processes (feed-subscribers.js), each socket subscribed
 * to `all` on one of `urls` (round robin over all sockets of the pool). Steps: `reset(step)` before producing,
 * `report(expected)` after; `close()` at the end.
 */
export class SubscriberPool {
  private readonly children: ChildProcess[] = [];

  private constructor(private readonly sizes: number[]) {}

  /**
   * Forks the processes and connects every socket; resolves when all are subscribed.
   * @param n subscribers in total
   * @param procs child processes (each gets n / procs sockets, at least 1 socket per process)
   */
  static async start(urls: string[], token: string, n: number, procs: number): Promise<SubscriberPool> {
    const k = Math.max(1, Math.min(procs, n));
    const sizes = Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
    const pool = new SubscriberPool(sizes);
    let offset = 0;
    await Promise.all(
      sizes.map((size) => {
        const child = fork(join(__dirname, 'feed-subscribers.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        pool.children.push(child);
        const ready = new Promise<void>((resolve, reject) => {
          child.on('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : m.error ? reject(new Error(m.error)) : undefined));
          child.once('exit', (code) => reject(new Error(`subscriber process exited with ${code} before it was ready`)));
        });
        child.send({ cmd: 'start', urls, token, n: size, offset });
        offset += size;
        return ready;
      }),
    );
    return pool;
  }

  /** Subscribers in the pool. */
  get size(): number {
    return this.sizes.reduce((a, b) => a + b, 0);
  }

  /** Zeroes every counter and counts only events with `data.step === step`; resolves with the sockets resubscribed. */
  async reset(step: string): Promise<number> {
    const counts = await Promise.all(this.children.map((c) => this.ask<{ resubscribed: number }>(c, { cmd: 'reset', step }, 'reset')));
    return counts.reduce((a, r) => a + r.resubscribed, 0);
  }

  /**
   * Waits until every socket has `expected` events (or nothing arrived for `quietMs`), then returns the merged
   * report of the step.
   */
  async report(expected: number, quietMs: number): Promise<ReturnType<typeof mergeReports>> {
    const reports = await Promise.all(
      this.children.map((c) => this.ask<{ report: SubscriberReport }>(c, { cmd: 'report', expected, keep: true, quietMs }, 'report')),
    );
    return mergeReports(reports.map((r) => r.report));
  }

  /** Closes every socket and waits for the processes to exit. */
  async close(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.send({ cmd: 'close' });
          }),
      ),
    );
  }

  private ask<T>(child: ChildProcess, msg: object, key: string): Promise<T> {
    return new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (m[key] === undefined) return;
        child.off('message', on);
        resolve(m as T);
      };
      child.on('message', on);
      child.send(msg);
    });
  }
}
