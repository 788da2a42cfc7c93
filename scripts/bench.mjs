#!/usr/bin/env node
/**
 * `pnpm bench:<name>` (`node scripts/bench.mjs <name> [args...]`): runs `apps/api/dist/bench/<name>.bench.js` after
 * making sure it exists and is current, so a benchmark works on a clean clone.
 *
 * 1. no `node_modules` yet: `pnpm install --frozen-lockfile` (pnpm 10, through npx when not on PATH);
 * 2. build contracts -> agent-sdk -> api (`tsc` is incremental enough that an up-to-date tree takes seconds; the web
 *    is not needed by any benchmark). MC_SKIP_BUILD=1 skips 1 and 2 (then the dist file must already exist).
 * 3. `node apps/api/dist/bench/<name>.bench.js [args...]` from the repository root, exit code passed through.
 * Exit code 2 with the list of benchmarks when `<name>` is unknown.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertNode, childEnv, fail, heading, readPackage, resolvePnpm, ROOT, run } from './lib/workspace.mjs';

assertNode();
const [name, ...args] = process.argv.slice(2);
const benchSrc = join(ROOT, 'apps', 'api', 'src', 'bench');
const known = readdirSync(benchSrc).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, ''));
if (!name || !known.includes(name)) {
  process.stderr.write(`usage: node scripts/bench.mjs <name> [args...]; benchmarks: ${known.join(', ')}\n`);
  process.exit(2);
}
const env = childEnv();
const dist = join(ROOT, 'apps', 'api', 'dist', 'bench', `${name}.bench.js`);
if (process.env.MC_SKIP_BUILD === '1') {
  if (!existsSync(dist)) fail(`${dist} is missing: run \`pnpm build\` first (or unset MC_SKIP_BUILD).`);
} else {
  const pnpm = resolvePnpm(env);
  const [cmd, ...lead] = pnpm;
  if (!existsSync(join(ROOT, 'node_modules')) || !existsSync(join(ROOT, 'apps', 'api', 'node_modules'))) {
    heading('pnpm install --frozen-lockfile (no node_modules yet)');
    const r = await run(cmd, [...lead, 'install', '--frozen-lockfile'], { env, timeoutMs: 30 * 60_000 });
    if (r.code !== 0) fail('pnpm install failed; run `pnpm install --frozen-lockfile` and `pnpm build`, then retry.');
  }
  for (const dir of ['libs/contracts', 'libs/agent-sdk', 'apps/api']) {
    if (!readPackage(dir)?.scripts?.build) continue;
    heading(`build ${dir} (for bench:${name})`);
    const r = await run(cmd, [...lead, 'run', 'build'], { cwd: join(ROOT, dir), env, timeoutMs: 15 * 60_000 });
    if (r.code !== 0) fail(`building ${dir} failed; fix the build (\`pnpm build\`) and retry.`);
  }
  if (!existsSync(dist)) fail(`${dist} is missing after the build.`);
}
heading(`bench:${name}`);
const child = spawn(process.execPath, [dist, ...args], { cwd: ROOT, env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
