#!/usr/bin/env node
/**
 * `npm run up`: install, build and start the whole product on one port (README "Quick start", line 1).
 *
 * 1. pnpm install --frozen-lockfile (pnpm 10.34.9; through `npx -y pnpm@10.34.9` when pnpm is not on PATH)
 * 2. build contracts -> agent-sdk -> api -> web
 * 3. node apps/api/dist/main.js from the repository root: SQLite in ./data (unless DATABASE_URL is set),
 *    PORT (default 3000). The server prints the URL and, on the first start, the generated admin password.
 *
 * Environment: everything in .env.example is passed through; MC_SKIP_INSTALL=1 skips step 1.
 * Exit code: the server's (1 when install or build fails).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertNode, childEnv, fail, formatMs, heading, installAndBuild, killTree, resolvePnpm, ROOT } from './lib/workspace.mjs';

assertNode();
const started = Date.now();
const env = childEnv();
const pnpm = resolvePnpm(env);
const steps = await installAndBuild(pnpm, env);
const failed = steps.find((s) => !s.ok);
if (failed) fail(`${failed.name} failed; the product was not started.`);

const main = join(ROOT, 'apps', 'api', 'dist', 'main.js');
if (!existsSync(main)) fail(`${main} is missing after the build.`);
if (!existsSync(join(ROOT, 'apps', 'web', 'dist', 'index.html'))) {
  process.stderr.write('[warn] apps/web/dist/index.html is missing: the API will start without the dashboard.\n');
}

heading(`starting Mission Control (ready in ${formatMs(Date.now() - started)}; Ctrl-C stops it)`);
process.stdout.write(
  `    storage: ${env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : env.SQLITE_PATH ?? './data/mission-control.db'}` +
    `   port: ${env.PORT ?? 3000}\n\n`,
);
// own process group: a terminal Ctrl-C reaches only this script, which forwards one SIGTERM (graceful shutdown)
const server = spawn(process.execPath, [main], { cwd: ROOT, env: { ...env, NODE_ENV: env.NODE_ENV ?? 'production' }, stdio: 'inherit', detached: process.platform !== 'win32' });
let stopping = false;
const stop = (signal) => {
  if (stopping) {
    killTree(server, 'SIGKILL');
    return;
  }
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the server (again to force)\n`);
  killTree(server, 'SIGTERM');
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
server.on('error', (err) => fail(`cannot start the server: ${err.message}`));
server.on('exit', (code, signal) => {
  process.exit(code ?? (stopping ? 0 : signal ? 1 : 0));
});
