/**
 * Shared helpers of `scripts/up.mjs` and `scripts/check.mjs` (Node built-ins only: they run before any install).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (the folder holding pnpm-workspace.yaml). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The pnpm the project is pinned to (root package.json `packageManager`). */
export const PNPM_VERSION = '10.34.9';

/** Workspace packages in build order: contracts -> agent-sdk -> api -> web. */
export const BUILD_ORDER = ['libs/contracts', 'libs/agent-sdk', 'apps/api', 'apps/web'];

const MIN_NODE = [20, 19];

/** Exits with a clear message when Node is older than 20.19. */
export function assertNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    fail(`Node ${process.versions.node} is too old: this project needs Node >= ${MIN_NODE.join('.')}.`);
  }
}

/** Prints `message` on stderr and exits 1. */
export function fail(message, code = 1) {
  process.stderr.write(`\n[error] ${message}\n`);
  process.exit(code);
}

/** A step heading on stdout. */
export function heading(text) {
  process.stdout.write(`\n==> ${text}\n`);
}

/**
 * Environment for every child: the caller's, plus
 * - `npm_config_nodedir=/usr` when this machine has Node's headers there (node-gyp then builds better-sqlite3
 *   against them instead of downloading headers), unless already set;
 * - `ONNXRUNTIME_NODE_INSTALL=skip` (onnxruntime-node's postinstall would fetch CUDA binaries from nuget);
 * - `npm_config_confirm_modules_purge=false` so pnpm never stops at a "reinstall from scratch?" prompt.
 */
export function childEnv(extra = {}) {
  const env = { ...process.env };
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  env.ONNXRUNTIME_NODE_INSTALL = 'skip';
  env.npm_config_confirm_modules_purge = 'false';
  return { ...env, ...extra };
}

/**
 * The pnpm command: `pnpm` when a pnpm 10 is on PATH, otherwise `npx -y pnpm@10.34.9` (npm fetches it once and
 * caches it). Returns `[command, ...leadingArgs]`.
 */
export function resolvePnpm(env = childEnv()) {
  const probe = spawnSync('pnpm', ['--version'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const version = probe.status === 0 ? probe.stdout.trim() : '';
  if (version.startsWith('10.')) return ['pnpm'];
  process.stdout.write(
    `pnpm ${version ? version + ' is not a 10.x' : 'is not on PATH'}; using npx -y pnpm@${PNPM_VERSION}\n`,
  );
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  const check = spawnSync(npx, ['-y', `pnpm@${PNPM_VERSION}`, '--version'], { env, stdio: 'inherit' });
  if (check.status !== 0) fail(`could not run pnpm@${PNPM_VERSION} through npx (is the npm registry reachable?)`);
  return [npx, '-y', `pnpm@${PNPM_VERSION}`];
}

/** The parsed package.json of a workspace folder (relative to ROOT), or null. */
export function readPackage(dir) {
  const file = join(ROOT, dir, 'package.json');
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * Runs a command with inherited stdio in its own process group. SIGINT/SIGTERM to this script stop the child's
 * group and then exit this script (130/143), so an interrupted run never goes on to its next step.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number, onSpawn?: (child: import('node:child_process').ChildProcess) => void }} [opts]
 * @returns {Promise<{ code: number, signal: string | null, ms: number, timedOut: boolean }>} `code` is 1 when
 *   the command was killed by a signal or the timeout (ms = wall-clock milliseconds).
 */
export function run(cmd, args, opts = {}) {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? childEnv(),
      stdio: 'inherit',
      detached: process.platform !== 'win32',
    });
    let timedOut = false;
    const timer =
      opts.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            process.stderr.write(`\n[error] ${cmd} ${args.join(' ')} exceeded ${Math.round(opts.timeoutMs / 1000)} s; killing it\n`);
            killTree(child);
          }, opts.timeoutMs)
        : null;
    // Ctrl-C / SIGTERM (CI timeout): stop the child's whole group, then end this script too (no further steps)
    let interrupted = null;
    const forward = (sig) => {
      interrupted = sig;
      killTree(child, 'SIGTERM');
      setTimeout(() => killTree(child, 'SIGKILL'), 5000).unref();
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    opts.onSpawn?.(child);
    const done = (code, signal) => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (interrupted) {
        process.stderr.write(`\n[error] ${interrupted}: stopped ${cmd} ${args.join(' ')}; aborting\n`);
        process.exit(interrupted === 'SIGINT' ? 130 : 143);
      }
      resolvePromise({ code: code ?? 1, signal: signal ?? null, ms: Date.now() - started, timedOut });
    };
    child.on('error', (err) => {
      process.stderr.write(`[error] cannot start ${cmd}: ${err.message}\n`);
      done(127, null);
    });
    child.on('exit', (code, signal) => done(timedOut ? 1 : code, signal));
  });
}

/** Sends `signal` to the child's process group (falls back to the child alone). */
export function killTree(child, signal = 'SIGKILL') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (process.platform !== 'win32' && child.pid) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** Formats milliseconds as `12.3 s` or `4 min 05 s`. */
export function formatMs(ms) {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/**
 * `pnpm install --frozen-lockfile` then `build` in each package of BUILD_ORDER that has one.
 * @returns {Promise<{ name: string, ok: boolean, ms: number }[]>} one entry per step; stops at the first failure.
 */
export async function installAndBuild(pnpm, env) {
  const steps = [];
  const [cmd, ...lead] = pnpm;
  if (process.env.MC_SKIP_INSTALL === '1') {
    process.stdout.write('MC_SKIP_INSTALL=1: skipping pnpm install\n');
  } else {
    heading('pnpm install --frozen-lockfile');
    const r = await run(cmd, [...lead, 'install', '--frozen-lockfile'], { env, timeoutMs: 30 * 60_000 });
    steps.push({ name: 'install', ok: r.code === 0, ms: r.ms });
    if (r.code !== 0) return steps;
  }
  for (const dir of BUILD_ORDER) {
    const pkg = readPackage(dir);
    if (!pkg?.scripts?.build) continue;
    heading(`build ${pkg.name} (${dir})`);
    const r = await run(cmd, [...lead, 'run', 'build'], { cwd: join(ROOT, dir), env, timeoutMs: 15 * 60_000 });
    steps.push({ name: `build ${pkg.name}`, ok: r.code === 0, ms: r.ms });
    if (r.code !== 0) return steps;
  }
  return steps;
}
