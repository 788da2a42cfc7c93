/**
 * Benchmark support: the built product as a child process (`node apps/api/dist/main.js`), as users run it, so a
 * benchmark's client load and fakes do not share the server's event loop and the server's RSS can be read alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** `apps/api` (this file is `src/bench/support/instance.ts`, compiled to `dist/bench/support/instance.js`). */
const API_DIR = join(__dirname, '..', '..', '..');
/** `apps/api/dist/main.js`, the built product (the same path from the source, as the specs load it, and from dist). */
export const MAIN = join(API_DIR, 'dist', 'main.js');
/** The admin password every benchmark's instances are started with. */
export const BENCH_ADMIN_PASSWORD = 'bench-admin-password';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A running instance: its process, base URL (`http://127.0.0.1:<port>`) and the last 20 kB of its output. */
export interface Instance {
  proc: ChildProcess;
  url: string;
  output: () => string;
}

/** Options of `startInstance`. */
export interface StartOptions {
  /** How long to wait for `/api/health` (ms, default 120,000). */
  timeoutMs?: number;
  /** Node options before the script (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** How much of the output to keep (characters, the newest; default 20,000). */
  outputLimit?: number;
}

/**
 * Starts one `node dist/main.js` with `env` (plus PATH, HOST=127.0.0.1 and a free PORT) and resolves when
 * `/api/health` answers 200. @throws Error with the instance's output when it exits or is not healthy in time.
 */
export async function startInstance(env: Record<string, string>, opts: StartOptions = {}): Promise<Instance> {
  const { timeoutMs = 120_000, nodeArgs = [], outputLimit = 20_000 } = opts;
  const port = await freePort();
  let out = '';
  const proc = spawn(process.execPath, [...nodeArgs, MAIN], {
    cwd: API_DIR,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > outputLimit) out = out.slice(-outputLimit);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`instance exited with ${proc.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`instance did not become healthy:\n${out}`);
    await sleep(100);
  }
  return { proc, url, output: () => out };
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
export async function stopInstance(s: Instance): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => s.proc.kill('SIGKILL'), 10_000);
    s.proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    s.proc.kill('SIGTERM');
  });
}

/**
 * Logs in as admin through the cookie flow and creates an API key (Bearer) with `role` on `url`.
 * @throws Error naming the step and status when login or key creation fails.
 */
export async function adminKey(url: string, password = BENCH_ADMIN_PASSWORD, role: 'admin' | 'operator' = 'admin'): Promise<string> {
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const res = await fetch(`${url}/api/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ label: 'bench', role }),
  });
  if (res.status !== 201) throw new Error(`api key: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

/**
 * A process's resident memory from `/proc/<pid>/status`, in MB: `rss` (VmRSS) and `anon` (RssAnon: heap, stacks and
 * buffers, without file pages such as SQLite's memory-mapped database, which VmRSS counts). Null off Linux.
 */
export function processRssMb(pid: number): { rss: number; anon: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rss: Math.round(kb('VmRSS') / 102.4) / 10, anon: Math.round(kb('RssAnon') / 102.4) / 10 };
  } catch {
    return null;
  }
}
