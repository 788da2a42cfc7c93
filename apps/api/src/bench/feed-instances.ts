/**
 * `pnpm bench:feed --instances 3` (or BENCH_FEED_INSTANCES=3): the feed across API instances on one PostgreSQL and
 * one Redis.
 *
 * Starts K instances of the built product (`node apps/api/dist/main.js`, one OS process each) on a fresh PostgreSQL
 * database (created on BENCH_PG_URL's server, default postgres://postgres@127.0.0.1:5432/postgres, dropped at the
 * end) with REDIS_URL (BENCH_REDIS_URL, default redis://127.0.0.1:6379) and a unique REDIS_PREFIX. BENCH_INST_N
 * subscribers (default 300) are spread round robin over the instances (BENCH_SUB_PROCS child processes, default 2);
 * a paced producer in this process posts BENCH_INST_RATE events/s (default 1,000) for BENCH_INST_DURATION_S seconds
 * (default 10) as `POST /api/events` (one event per request, `tool.called`), round robin through all instances, at
 * most BENCH_INST_IN_FLIGHT requests at once (default 256). Each event carries `data.t`, the time its request was
 * sent (epoch ms), so latency is post -> receipt (it includes the HTTP request and the cross-instance hop).
 * Reports delivered events/s per client (min / median), p50 / p99 over all clients and per instance, loss (events
 * acknowledged with 2xx that a subscriber never received), duplicates, out-of-order (seq lower than the previous
 * one) and slow-consumer notices. The JSON last line has every figure.
 */
import { Client } from 'pg';
import { createClient } from 'redis';
import { Pool } from 'undici';
import { minMedian, now, percentile, perClientEps, sleep, SubscriberPool } from './feed-harness';
import { adminKey, BENCH_ADMIN_PASSWORD as ADMIN_PASSWORD, startInstance, stopInstance, type Instance } from './support/instance';


/** Settings of an `--instances` run (from the environment, see the file comment). */
export interface InstancesSettings {
  instances: number;
  n: number;
  rate: number;
  durationS: number;
  inFlight: number;
  procs: number;
  pgUrl: string;
  redisUrl: string;
}

/** Reads the `--instances` settings from the environment; `instances` comes from the flag or BENCH_FEED_INSTANCES. */
export function instancesSettings(instances: number, env: NodeJS.ProcessEnv = process.env): InstancesSettings {
  return {
    instances,
    n: Number(env.BENCH_INST_N ?? 300),
    rate: Number(env.BENCH_INST_RATE ?? 1000),
    durationS: Number(env.BENCH_INST_DURATION_S ?? 10),
    inFlight: Number(env.BENCH_INST_IN_FLIGHT ?? 256),
    procs: Number(env.BENCH_SUB_PROCS ?? 2),
    pgUrl: env.BENCH_PG_URL ?? env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.BENCH_REDIS_URL ?? env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

/**
 * Posts `rate` events/s for `durationS` s round robin through `urls`, at most `inFlight` requests at once.
 * Resolves with the events acknowledged (2xx), the failures, the wall time (s) and the post latency p50 / p99 (ms).
 * Uses undici connection pools (keep-alive, 32 connections per instance): `fetch` costs several times more CPU per
 * request, which on a 2-core machine is taken from the instances.
 */
async function producePosts(urls: string[], key: string, rate: number, durationS: number, inFlight: number, step: string) {
  const pools = urls.map((u) => new Pool(u, { connections: 32 }));
  const total = Math.round(rate * durationS);
  const wall0 = now();
  let issued = 0;
  let acked = 0;
  let failed = 0;
  let active = 0;
  const postMs: number[] = [];
  const pending = new Set<Promise<void>>();
  const post = async (i: number) => {
    const t = now();
    try {
      const res = await pools[i % pools.length].request({
        path: '/api/events',
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'tool.called', data: { tool: 'bench', t, i, step } }),
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) acked++;
      else failed++;
    } catch {
      failed++;
    }
    postMs.push(now() - t);
  };
  while (issued < total) {
    const due = Math.min(total, Math.floor(((now() - wall0) / 1000) * rate));
    for (; issued < due && active < inFlight; issued++) {
      active++;
      const p = post(issued).finally(() => {
        active--;
        pending.delete(p);
      });
      pending.add(p);
    }
    await sleep(active >= inFlight ? 1 : 10);
  }
  await Promise.all([...pending]);
  await Promise.all(pools.map((p) => p.close()));
  postMs.sort((a, b) => a - b);
  return { acked, failed, wallS: (now() - wall0) / 1000, postP50Ms: Math.round(postMs[Math.floor(postMs.length * 0.5)] ?? 0), postP99Ms: Math.round(postMs[Math.floor(postMs.length * 0.99)] ?? 0) };
}

/** Runs the multi-instance benchmark and returns the JSON result (printed by the caller as the last line). */
export async function runInstances(s: InstancesSettings): Promise<Record<string, unknown>> {
  const dbName = `mc_bench_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: s.pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const dbUrl = s.pgUrl.replace(/\/[^/]*$/, `/${dbName}`);
  const redisPrefix = `mc:bench_${process.pid}_${Date.now()}`;
  const instances: Instance[] = [];
  let pool: SubscriberPool | null = null;
  try {
    const env = {
      DATABASE_URL: dbUrl,
      REDIS_URL: s.redisUrl,
      REDIS_PREFIX: redisPrefix,
      ADMIN_PASSWORD,
      LOG_LEVEL: 'error',
      WEB_DIST: '',
      SPAWN_PERSONAS: '',
      LOGIN_RATE_LIMIT: '1000',
      // N subscribers share one key and one IP here: the realtime edge limits are not what this benchmark measures
      REALTIME_HANDSHAKES_PER_IP: '0',
      REALTIME_MAX_SOCKETS_PER_PRINCIPAL: '0',
      REALTIME_MAX_SOCKETS_PER_IP: '0',
      SOCKET_MAX_BUFFERED_FRAMES: '1024',
      EVENT_PRUNE_INTERVAL_MS: '86400000',
    };
    // the first one migrates the fresh database; the others start on it
    instances.push(await startInstance(env));
    for (let i = 1; i < s.instances; i++) instances.push(await startInstance(env));
    const urls = instances.map((x) => x.url);
    const key = await adminKey(urls[0]);
    pool = await SubscriberPool.start(urls, key, s.n, s.procs);
    await sleep(500);
    // warm-up (not counted): 1 s at a tenth of the rate
    await pool.reset('warmup');
    const warm = await producePosts(urls, key, Math.max(10, Math.round(s.rate / 10)), 1, s.inFlight, 'warmup');
    await pool.report(warm.acked, 1500);
    await pool.reset('inst');
    const produced = await producePosts(urls, key, s.rate, s.durationS, s.inFlight, 'inst');
    const rep = await pool.report(produced.acked, 3000);
    const eps = minMedian(perClientEps(rep));
    const perInstance = urls.map((_, u) => {
      const clients = rep.urlIndex.map((x, i) => (x === u ? i : -1)).filter((i) => i >= 0);
      const e = minMedian(clients.map((i) => perClientEps(rep)[i]));
      return {
        instance: u,
        clients: clients.length,
        delivered_eps_min: Math.round(e.min),
        p50_ms: percentile(rep.histogramByUrl[u], 0.5),
        p99_ms: percentile(rep.histogramByUrl[u], 0.99),
        lost: clients.reduce((a, i) => a + Math.max(0, produced.acked - rep.received[i]), 0),
      };
    });
    return {
      bench: 'feed',
      mode: 'instances',
      instances: s.instances,
      subscribers: s.n,
      target_eps: s.rate,
      duration_s: s.durationS,
      posted: produced.acked,
      post_failures: produced.failed,
      persisted_eps: Math.round(produced.acked / produced.wallS),
      post_p50_ms: produced.postP50Ms,
      post_p99_ms: produced.postP99Ms,
      delivered_eps_min: Math.round(eps.min),
      delivered_eps_median: Math.round(eps.median),
      p50_ms: percentile(rep.histogram, 0.5),
      p99_ms: percentile(rep.histogram, 0.99),
      lost: rep.received.reduce((a, r) => a + Math.max(0, produced.acked - r), 0),
      duplicates: rep.duplicates,
      out_of_order: rep.outOfOrder,
      gaps: rep.gaps,
      disconnects: rep.disconnects,
      subscriber_cpu_pct: rep.cpuPctEach,
      per_instance: perInstance,
    };
  } catch (err) {
    for (const x of instances) process.stderr.write(`--- instance ${x.url} output (tail):\n${x.output().slice(-3000)}\n`);
    throw err;
  } finally {
    await pool?.close();
    for (const x of instances) await stopInstance(x);
    const c = new Client({ connectionString: s.pgUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
    await dropRedisKeys(s.redisUrl, redisPrefix);
  }
}

/** Deletes the keys this run left under `prefix` in Redis (pub/sub leaves none; other modules may). */
async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const r = createClient({ url });
  await r.connect();
  try {
    for await (const keys of r.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await r.del(keys);
    }
  } finally {
    await r.quit();
  }
}
