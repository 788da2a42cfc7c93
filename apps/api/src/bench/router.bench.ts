/**
 * `pnpm bench:router`: what the LLM router costs per request, and what an outage costs (issue 3, benchmark).
 *
 * Upstream: a fake OpenAI-compatible server (`router-upstream.js`, own process, loopback) with a primary and a backup.
 * 1. Added latency vs calling the upstream directly, median and p99, sequential and at 200 concurrent requests:
 *    - in-process: `LlmRouterService.complete()` vs the same HTTP client calling the upstream directly;
 *    - through our HTTP endpoint `POST /v1/chat/completions` (auth, validation, routing) vs the upstream over HTTP;
 *      the server runs as its own process (`node dist/main.js`, like a real deployment), exactly as Portkey does;
 *    - Portkey's open-source gateway (`@portkey-ai/gateway`, run locally, same upstream, same client) for a ratio.
 *    Modes are interleaved in rounds so drift hits them alike.
 * 2. Failover cost during a primary outage (connection refused) of BENCH_OUTAGE_S seconds (default 60) with the
 *    shipped breaker defaults (threshold 5, recovery 60 s, 2 half-open trials, 2 retries with backoff): primary
 *    attempts made and added latency per request (vs the backup called directly, each call after the same think time),
 *    overall and once the breaker is open.
 * The last line printed is one JSON object `{"bench":"router", ...}`. All times in ms.
 * Env: BENCH_SEQ (requests per mode per round, default 200), BENCH_ROUNDS (default 8), BENCH_CONC (default 200),
 * BENCH_CONC_ROUNDS (default 6), BENCH_OUTAGE_S (default 60), BENCH_OUTAGE_GAP_MS (think time, default 50).
 */
import 'reflect-metadata';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { createApp } from '../app.factory';
import { loadConfig } from '../config/app-config';
import { OpenAiAdapter } from '../llm-router/adapters/openai.adapter';
import { LlmRouterService } from '../llm-router/llm-router.service';
import type { ProviderConfig } from '../llm-router/llm-router.types';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = (k: string, d: number) => Number(process.env[k] ?? d);
const MESSAGES = [{ role: 'user' as const, content: 'ping' }];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function pct(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const r3 = (n: number) => Math.round(n * 1000) / 1000;

/** POSTs JSON and resolves with the latency (ms) once the whole body is read. @throws on non-2xx */
function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`${url} -> ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`));
        else resolve(performance.now() - t0);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Logs in to a running server as admin (password bench-admin-password) and creates an API key for the bench. */
async function serverApiKey(appUrl: string): Promise<string> {
  const login = await fetch(`${appUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status}`);
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const res = await fetch(`${appUrl}/api/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ label: 'bench', role: 'admin' }),
  });
  if (!res.ok) throw new Error(`api key creation failed: ${res.status}`);
  return ((await res.json()) as { key: string }).key;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function providerCfg(name: string, url: string): ProviderConfig {
  return {
    name, type: 'openai', tier: 'local', enabled: true, misconfiguredReason: null, priority: 1, url, apiKey: null, timeoutMs: 30_000, maxRetries: 2,
    models: [{ name: 'gpt-4o-mini', default: true, contextWindow: null, costPer1kInputUsd: 0, costPer1kOutputUsd: 0 }], modelPath: null, contextSize: 0, threads: 1,
  };
}

function findPortkey(): string | null {
  for (const base of require.resolve.paths('@portkey-ai/gateway') ?? []) {
    const p = join(base, '@portkey-ai', 'gateway', 'build', 'start-server.js');
    if (existsSync(p)) return p;
  }
  return null;
}

async function waitHttp(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(url, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

async function main(): Promise<void> {
  const SEQ = env('BENCH_SEQ', 200);
  const ROUNDS = env('BENCH_ROUNDS', 8);
  const CONC = env('BENCH_CONC', 200);
  const CONC_ROUNDS = env('BENCH_CONC_ROUNDS', 6);
  const OUTAGE_S = env('BENCH_OUTAGE_S', 60);
  const GAP_MS = env('BENCH_OUTAGE_GAP_MS', 50);
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'mc-router-bench-'));
  try {
    // upstream process
    const up = fork(join(__dirname, 'router-upstream.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(up);
    const { primaryPort, backupPort } = await new Promise<{ primaryPort: number; backupPort: number }>((resolve) =>
      up.on('message', (m: { ready?: boolean; primaryPort: number; backupPort: number }) => m.ready && resolve(m)),
    );
    let seqId = 0;
    const ipc = (msg: Record<string, unknown>) =>
      new Promise<{ primaryChats: number }>((resolve) => {
        const id = ++seqId;
        const on = (m: { id?: number; primaryChats: number }) => {
          if (m.id === id) {
            up.off('message', on);
            resolve(m);
          }
        };
        up.on('message', on);
        up.send({ ...msg, id });
      });
    const primaryUrl = `http://127.0.0.1:${primaryPort}/v1`;
    const backupUrl = `http://127.0.0.1:${backupPort}/v1`;

    // Portkey gateway process (same upstream)
    const portkeyEntry = findPortkey();
    let portkeyUrl: string | null = null;
    if (portkeyEntry) {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const pk = spawn(process.execPath, [portkeyEntry, `--port=${port}`, '--headless'], { cwd: dirname(portkeyEntry), stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(pk);
      if (await waitHttp(`http://127.0.0.1:${port}/`, 15_000)) portkeyUrl = `http://127.0.0.1:${port}`;
    }

    // our app, with a providers file pointing at the fake upstream (shipped breaker defaults)
    const yamlPath = join(dir, 'providers.yaml');
    writeFileSync(
      yamlPath,
      stringify({
        cascade: { health_check: { interval_ms: 0 }, metrics: { flush_interval_ms: 5000 } },
        providers: [
          { name: 'primary', type: 'openai', tier: 'local', priority: 1, base_url: primaryUrl, models: [{ name: 'gpt-4o-mini', default: true }] },
          { name: 'backup', type: 'openai', tier: 'local', priority: 2, base_url: backupUrl, models: [{ name: 'gpt-4o-mini', default: true }] },
        ],
      }),
    );
    const config = loadConfig({ SQLITE_PATH: join(dir, 'bench.db'), ADMIN_PASSWORD: 'bench-admin-password', LOG_LEVEL: 'error', WEB_DIST: '', REDIS_URL: '', DATABASE_URL: '', LLM_PROVIDERS_PATH: yamlPath, NODE_ENV: 'production' });
    delete (config as { DATABASE_URL?: string }).DATABASE_URL;
    delete (config as { REDIS_URL?: string }).REDIS_URL;
    const app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    const router = app.get(LlmRouterService);

    // our server as its own process (the product as deployed), for the HTTP modes, like the Portkey process
    const serverPort = 20000 + Math.floor(Math.random() * 20000);
    const server = spawn(process.execPath, [join(__dirname, '..', 'main.js')], {
      env: {
        ...process.env,
        PORT: String(serverPort),
        HOST: '127.0.0.1',
        SQLITE_PATH: join(dir, 'server.db'),
        ADMIN_PASSWORD: 'bench-admin-password',
        LOG_LEVEL: 'error',
        NODE_ENV: 'production', // as deployed (Dockerfile, npm run up)
        WEB_DIST: '',
        LLM_PROVIDERS_PATH: yamlPath,
        DATABASE_URL: '',
        REDIS_URL: '',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(server);
    const appUrl = `http://127.0.0.1:${serverPort}`;
    if (!(await waitHttp(`${appUrl}/api/health`, 30_000))) throw new Error('our server process did not start');
    const key = await serverApiKey(appUrl);
    const direct = new OpenAiAdapter(providerCfg('primary', primaryUrl));
    const directBackup = new OpenAiAdapter(providerCfg('backup', backupUrl));

    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES });
    const modes: Record<string, () => Promise<number>> = {
      direct: () =>
        timed(() => {
          const ac = new AbortController();
          return direct.complete({ messages: MESSAGES, model: 'gpt-4o-mini', temperature: 0.7, maxTokens: null, signal: ac.signal, timedOut: () => false });
        }),
      inProcess: () => timed(() => router.complete({ messages: MESSAGES })),
      directHttp: () => post(`${primaryUrl}/chat/completions`, body, {}),
      ourHttp: () => post(`${appUrl}/v1/chat/completions`, JSON.stringify({ model: 'auto', messages: MESSAGES }), { authorization: `Bearer ${key}` }),
    };
    if (portkeyUrl) {
      modes.portkey = () => post(`${portkeyUrl}/v1/chat/completions`, body, { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': primaryUrl, authorization: 'Bearer bench' });
      try {
        await modes.portkey();
      } catch (err) {
        process.stderr.write(`portkey unusable: ${(err as Error).message}\n`);
        delete modes.portkey;
      }
    }
    const names = Object.keys(modes);
    // warm-up
    for (const n of names) for (let i = 0; i < 300; i++) await modes[n]();

    // 1a. sequential
    const seq: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) for (const n of names) for (let i = 0; i < SEQ; i++) seq[n].push(await modes[n]());
    // 1b. concurrent
    const conc: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const wall: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
    for (let r = 0; r < CONC_ROUNDS; r++) {
      for (const n of names) {
        const t0 = performance.now();
        const lat = await Promise.all(Array.from({ length: CONC }, () => modes[n]()));
        wall[n] += performance.now() - t0;
        conc[n].push(...lat);
      }
    }
    const stat = (xs: number[]) => ({ p50: r3(pct(xs, 0.5)), p99: r3(pct(xs, 0.99)) });
    const added = (a: number[], b: number[]) => ({ p50: r3(pct(a, 0.5) - pct(b, 0.5)), p99: r3(pct(a, 0.99) - pct(b, 0.99)) });
    const rps = (n: string) => Math.round((conc[n].length / wall[n]) * 1000);
    const overhead = {
      sequential: {
        inProcess: added(seq.inProcess, seq.direct),
        http: added(seq.ourHttp, seq.directHttp),
        portkey: modes.portkey ? added(seq.portkey, seq.directHttp) : null,
      },
      concurrent200: {
        inProcess: added(conc.inProcess, conc.direct),
        http: added(conc.ourHttp, conc.directHttp),
        portkey: modes.portkey ? added(conc.portkey, conc.directHttp) : null,
      },
    };
    const latency = Object.fromEntries(names.map((n) => [n, { sequential: stat(seq[n]), concurrent200: stat(conc[n]), reqPerS200: rps(n) }]));
    const ratio = (p: { p50: number } | null, o: { p50: number }) => (p ? r3(p.p50 / Math.max(o.p50, 0.001)) : null);
    const portkeyVsOurs = { sequentialMedian: ratio(overhead.sequential.portkey, overhead.sequential.http), concurrent200Median: ratio(overhead.concurrent200.portkey, overhead.concurrent200.http) };
    for (const n of names) {
      process.stderr.write(`${n.padEnd(11)} seq p50 ${stat(seq[n]).p50} p99 ${stat(seq[n]).p99} | 200-conc p50 ${stat(conc[n]).p50} p99 ${stat(conc[n]).p99} | ${rps(n)} req/s\n`);
    }
    process.stderr.write(`added (ms): ${JSON.stringify(overhead)}\nportkey/ours (HTTP added median): ${JSON.stringify(portkeyVsOurs)}\n`);

    // 2. outage
    // baseline: the backup called directly, interleaved with the outage loop: routed request, think time, direct call,
    // think time. Both are timed the same way by this client and both follow an idle gap (a call right after another
    // one runs warm and would flatter whichever side goes second)
    const directBackupCall = () =>
      timed(() => directBackup.complete({ messages: MESSAGES, model: 'gpt-4o-mini', temperature: 0.7, maxTokens: null, signal: new AbortController().signal, timedOut: () => false }));
    const backupBase: number[] = [];
    for (let i = 0; i < 50; i++) await directBackupCall(); // warm the baseline client
    await router.control('primary', 'reset_circuit');
    const chats0 = (await ipc({ cmd: 'count' })).primaryChats;
    await ipc({ cmd: 'outage', on: true });
    const outage: { t: number; latency: number; primaryTries: number; servedBy: string; open: boolean }[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < OUTAGE_S * 1000) {
      const ts = performance.now();
      const r = await router.complete({ messages: MESSAGES });
      const latency = performance.now() - ts;
      const tries = r.attempts.filter((a) => a.provider === 'primary' && a.outcome !== 'skipped').length;
      outage.push({ t: ts - t0, latency, primaryTries: tries, servedBy: r.provider, open: r.attempts[0].reason === 'circuit_open' });
      await sleep(GAP_MS);
      backupBase.push(await directBackupCall());
      await sleep(GAP_MS);
    }
    await ipc({ cmd: 'outage', on: false });
    const chats1 = (await ipc({ cmd: 'count' })).primaryChats;
    const base = pct(backupBase, 0.5);
    const addedAll = outage.map((o) => o.latency - base);
    const afterOpen = outage.filter((o) => o.open).map((o) => o.latency - base);
    const primaryAttempts = outage.reduce((a, o) => a + o.primaryTries, 0);
    const failover = {
      outageSeconds: OUTAGE_S,
      requests: outage.length,
      servedByBackup: outage.filter((o) => o.servedBy === 'backup').length,
      primaryAttempts,
      primaryRequestsReceivedDuringOutage: chats1 - chats0,
      backupDirectP50Ms: r3(base),
      addedLatencyMs: { mean: r3(addedAll.reduce((a, b) => a + b, 0) / Math.max(1, addedAll.length)), p50: r3(pct(addedAll, 0.5)), p99: r3(pct(addedAll, 0.99)), max: r3(Math.max(...addedAll)) },
      addedOnceOpenMs: { requests: afterOpen.length, p50: r3(pct(afterOpen, 0.5)), p99: r3(pct(afterOpen, 0.99)) },
      firstRequestsAddedMs: addedAll.slice(0, 3).map(r3),
    };
    process.stderr.write(`outage: ${JSON.stringify(failover)}\n`);

    await app.close();
    const result = {
      bench: 'router',
      node: process.version,
      upstream: 'fake OpenAI-compatible, loopback, separate process',
      samples: { sequentialPerMode: SEQ * ROUNDS, concurrentPerMode: CONC * CONC_ROUNDS, concurrency: CONC },
      addedLatencyMs: overhead,
      latencyMs: latency,
      reqPerS: Object.fromEntries(names.map((n) => [n, rps(n)])),
      portkeyOverOurs: portkeyVsOurs,
      portkey: portkeyUrl ? '@portkey-ai/gateway 1.15.2 (local, same upstream)' : 'not available',
      failover,
      targets: {
        inProcessMedianLe0_2ms: overhead.sequential.inProcess.p50 <= 0.2,
        httpMedianLe1ms: overhead.sequential.http.p50 <= 1,
        atLeast2xBelowPortkey: portkeyVsOurs.sequentialMedian !== null ? portkeyVsOurs.sequentialMedian >= 2 : null,
        outageOnceOpenLe5ms: (failover.addedOnceOpenMs.p50 ?? Infinity) <= 5,
      },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    agent.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
