/**
 * `pnpm bench:memory` (issue 9 section 5): on a fresh SQLite file through the real MemoryService,
 * 1. store throughput: BENCH_MEMORY_ENTRIES (default 100,000) synthetic entries (Zipf-distributed words from a 5,000-word
 *    vocabulary, 8-30 words, 10 agents, sessions of 200), 64 stores in flight (group commit), embedding worker paused
 *    so the queue grows to N (fallback hashing embedder, 384-d);
 * 2. store latency while the worker drains that deep queue: 2,000 sequential stores, p50/p99 (queue depth reported);
 * 3. embedding queue throughput: entries/s from the start of phase 2 until the queue is empty;
 * 4. search p50/p99: 300 hybrid queries with an agentId filter (10% of the store), 300 without a filter;
 * 5. context block build p50/p99 (maxTokens 1,000, agent filter).
 * The last line printed is one JSON object. Machine: whatever runs it (shared 2-core developer box in the notes).
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../app.factory';
import { loadConfig } from '../config/app-config';
import { MemoryService } from '../memory/memory.service';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(s.length * p))] * 100) / 100;
};

async function main(): Promise<void> {
  const N = Number(process.env.BENCH_MEMORY_ENTRIES ?? 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'mc-bench-mem-'));
  const config = loadConfig({ SQLITE_PATH: join(dir, 'bench.db'), PORT: 0, HOST: '127.0.0.1', WEB_DIST: '', LOG_LEVEL: 'error', NODE_ENV: 'production', ADMIN_PASSWORD: 'bench-password-1234', MEMORY_EMBED_BATCH: 256 });
  delete (config as { DATABASE_URL?: string }).DATABASE_URL;
  delete (config as { REDIS_URL?: string }).REDIS_URL;
  const app = await createApp(config);
  await app.init();
  const mem = app.get(MemoryService);
  const rand = rng(42);
  const vocab = Array.from({ length: 5000 }, (_, i) => {
    let w = '';
    let x = i + 7;
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    do {
      w += letters[x % 26];
      x = Math.floor(x / 26);
    } while (x > 0);
    return `${w}${letters[(i * 7) % 26]}${letters[(i * 13) % 26]}`;
  });
  const zipf = () => vocab[Math.min(vocab.length - 1, Math.floor(Math.exp(rand() * Math.log(vocab.length))) - 1)];
  const text = () => Array.from({ length: 8 + Math.floor(rand() * 23) }, zipf).join(' ');

  // 1. throughput (the embedding worker is paused so the queue grows to N)
  await mem.worker.stop();
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < N) {
      const i = next++;
      await mem.store({ content: text(), type: 'conversation', source: `speaker${i % 2}`, agentId: `agent-${i % 10}`, sessionId: `agent-${i % 10}:s${Math.floor(i / 200)}` });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const storeS = (performance.now() - t0) / 1000;
  const storeThroughput = Math.round(N / storeS);

  // 2. latency with a deep queue, while the worker embeds it
  mem.worker.start();
  const depthBefore = (await mem.stats()).queueLag;
  const e0 = performance.now();
  const lat: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const s = performance.now();
    await mem.store({ content: text(), type: 'observation', source: 'bench', agentId: `agent-${i % 10}` });
    lat.push(performance.now() - s);
  }
  const depthAfter = (await mem.stats()).queueLag;

  // 3. embedding queue throughput (from the worker's restart)
  const lag0 = depthBefore + 2000;
  for (;;) {
    const st = await mem.stats();
    if (st.queueLag === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const embedS = (performance.now() - e0) / 1000;
  const embedThroughput = lag0 > 0 ? Math.round(lag0 / embedS) : null;

  // 4. search
  const queries = Array.from({ length: 300 }, () => Array.from({ length: 3 + Math.floor(rand() * 4) }, zipf).join(' '));
  const filtered: number[] = [];
  const unfiltered: number[] = [];
  let modes = new Set<string>();
  for (let i = 0; i < queries.length; i++) {
    let s = performance.now();
    const r = await mem.search(queries[i], { filters: { agentId: `agent-${i % 10}` }, limit: 10 });
    filtered.push(performance.now() - s);
    modes.add(r.mode);
    s = performance.now();
    await mem.search(queries[i], { limit: 10 });
    unfiltered.push(performance.now() - s);
  }
  // 5. context
  const ctx: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    await mem.getContext(queries[i], { maxTokens: 1000, filters: { agentId: `agent-${i % 10}` } });
    ctx.push(performance.now() - s);
  }
  const stats = await mem.stats();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  const out = {
    bench: 'memory',
    db: 'sqlite',
    entries: stats.total,
    dimension: mem.embedder.dimension,
    embedder: mem.embedder.model,
    store: { entriesPerS: storeThroughput, inFlight: 64, seconds: Math.round(storeS * 10) / 10 },
    storeLatencyDeepQueue: { p50Ms: pct(lat, 0.5), p99Ms: pct(lat, 0.99), queueDepthBefore: depthBefore, queueDepthAfter: depthAfter },
    embedQueue: { entriesPerS: embedThroughput, drained: lag0 },
    searchHybridFiltered: { p50Ms: pct(filtered, 0.5), p99Ms: pct(filtered, 0.99), filterShare: 0.1, modes: [...modes] },
    searchHybridUnfiltered: { p50Ms: pct(unfiltered, 0.5), p99Ms: pct(unfiltered, 0.99) },
    context: { p50Ms: pct(ctx, 0.5), p99Ms: pct(ctx, 0.99), maxTokens: 1000 },
  };
  modes = new Set();
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
