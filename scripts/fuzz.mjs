#!/usr/bin/env node
/**
 * `pnpm fuzz`: the OpenAPI-driven fuzz suite at full size (apps/api/test/fuzz/; issue 11, section 4).
 *
 * Builds what the suite imports (contracts, agent-sdk; `pnpm install` first when there is no node_modules), then runs
 * the fuzz spec with FUZZ_RUNS cases (default 10,000) per database and a fresh seed (FUZZ_SEED to repeat a run),
 * on SQLite by default (FUZZ_DBS=sqlite,postgres adds PostgreSQL at TEST_PG_URL). The last line printed is one JSON
 * object: seed, cases, counts by status and principal, findings by kind and the first findings with their requests.
 * Exit code 1 when there is any finding (or the suite failed).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNode, childEnv, fail, heading, resolvePnpm, ROOT, run } from './lib/workspace.mjs';

assertNode();
const env = childEnv();
const pnpm = resolvePnpm(env);
const [cmd, ...lead] = pnpm;
if (!existsSync(join(ROOT, 'node_modules')) || !existsSync(join(ROOT, 'apps', 'api', 'node_modules'))) {
  heading('pnpm install --frozen-lockfile (no node_modules yet)');
  const r = await run(cmd, [...lead, 'install', '--frozen-lockfile'], { env, timeoutMs: 30 * 60_000 });
  if (r.code !== 0) fail('pnpm install failed; run `pnpm install --frozen-lockfile`, then retry.');
}
for (const dir of ['libs/contracts', 'libs/agent-sdk']) {
  heading(`build ${dir} (for the fuzz suite)`);
  const r = await run(cmd, [...lead, 'run', 'build'], { cwd: join(ROOT, dir), env, timeoutMs: 15 * 60_000 });
  if (r.code !== 0) fail(`building ${dir} failed; fix the build (\`pnpm build\`) and retry.`);
}
const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const dbs = (process.env.FUZZ_DBS ?? 'sqlite').split(',').map((s) => s.trim()).filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'mc-fuzz-'));
const reportBase = join(dir, 'report');
heading(`fuzz: ${runs} cases per database (${dbs.join(', ')}), seed ${seed}`);
const r = await run(cmd, [...lead, 'exec', 'jest', '--runInBand', 'test/fuzz/openapi.fuzz.spec.ts'], {
  cwd: join(ROOT, 'apps', 'api'),
  env: { ...env, FUZZ_RUNS: String(runs), FUZZ_SEED: String(seed), FUZZ_DBS: dbs.join(','), FUZZ_REPORT: reportBase, ...(dbs.includes('postgres') ? {} : { SKIP_POSTGRES: '1' }) },
  timeoutMs: 4 * 3_600_000,
});
const reports = dbs.map((db) => `${reportBase}.${db}.json`).filter(existsSync).map((f) => JSON.parse(readFileSync(f, 'utf8')));
rmSync(dir, { recursive: true, force: true });
const sum = (key) => reports.reduce((m, x) => { for (const [k, v] of Object.entries(x[key])) m[k] = (m[k] ?? 0) + v; return m; }, {});
const out = {
  suite: 'openapi-fuzz',
  seed,
  cases: reports.reduce((n, x) => n + x.cases, 0),
  databases: reports.map((x) => ({ db: x.db, cases: x.cases, operationsCovered: x.operationsCovered, operations: x.operations, durationMs: x.durationMs, findings: x.findings })),
  byStatus: sum('byStatus'),
  byPrincipal: sum('byPrincipal'),
  findings: reports.reduce((n, x) => n + x.findings, 0),
  findingsByKind: sum('findingsByKind'),
  samples: reports.flatMap((x) => x.samples).slice(0, 10),
  ok: r.code === 0 && reports.length === dbs.length,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(out.ok && out.findings === 0 ? 0 : 1);
