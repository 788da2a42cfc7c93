import { spawnSync } from 'node:child_process';

/** Redis for the multi-instance suites (TEST_REDIS_URL, default redis://127.0.0.1:6379). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const ENABLE_REDIS =
  'start Redis (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "") or point TEST_REDIS_URL at one';

let redisChecked: boolean | null = null;

/**
 * Whether the Redis-dependent suites run. `npm run check` decides once (MC_TEST_REDIS=skip when its probe found no
 * Redis); a direct jest run probes TEST_REDIS_URL with a 2 s TCP connect (a child process: jest's describe blocks
 * are synchronous).
 */
export function redisAvailable(): boolean {
  if (process.env.MC_TEST_REDIS === 'skip') return false;
  if (redisChecked !== null) return redisChecked;
  const u = new URL(TEST_REDIS_URL);
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const s=require('node:net').connect({host:process.argv[1],port:+process.argv[2]});` +
        `s.setTimeout(2000,()=>process.exit(1));s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));`,
      u.hostname || '127.0.0.1',
      u.port || '6379',
    ],
    { timeout: 5000 },
  );
  redisChecked = probe.status === 0;
  return redisChecked;
}

/**
 * `describe` for suites that need Redis: without one the suite is skipped (jest reports its tests as skipped, and
 * `npm run check` counts them in its `N skipped`; with CI=true a skip fails the check) and a warning says how to
 * enable it.
 */
export function describeWithRedis(name: string, fn: () => void): void {
  if (redisAvailable()) {
    describe(name, fn);
    return;
  }
  process.stderr.write(`\n[skip] "${name}": Redis is not reachable at ${TEST_REDIS_URL}; ${ENABLE_REDIS}.\n`);
  describe.skip(`${name} [SKIPPED: no Redis at ${TEST_REDIS_URL}]`, fn);
}
