import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, MAIN, startInstance, stopInstance, type Instance } from '../../src/bench/support/instance';
import { ADMIN_PASSWORD } from './test-app';

/**
 * The built product (`node dist/main.js`) in its own OS process, for kill -9 tests (same helpers as
 * crash-recovery.spec.ts, shared here for the ledger's restart tests).
 */
const API_DIR = join(__dirname, '..', '..');

/** Newest mtime (ms) of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/** Builds dist when it is missing or older than src (tsc, ~20 s). */
export function ensureBuilt(): void {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(join(API_DIR, 'src'))) return;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: API_DIR, stdio: 'inherit' });
}

export { freePort };

export type Server = Instance;

/** Starts `node dist/main.js` with the test defaults plus `env` on a free port and waits until /api/health answers (30 s). */
export function startServer(env: Record<string, string>): Promise<Server> {
  return startInstance(
    {
      ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
      WEB_DIST: '',
      SPAWN_PERSONAS: '',
      LOGIN_RATE_LIMIT: '1000',
      AUCTION_WINDOW_MS: '600000',
      ...env,
    },
    { timeoutMs: 30_000, outputLimit: Infinity },
  );
}

export function kill9(s: Server): Promise<void> {
  return new Promise((resolve) => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) return resolve();
    s.proc.once('exit', () => resolve());
    s.proc.kill('SIGKILL');
  });
}

/** SIGTERM, then SIGKILL after 10 s. */
export const stop = stopInstance;
