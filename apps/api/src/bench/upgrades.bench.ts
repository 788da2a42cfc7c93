/**
 * `pnpm bench:upgrades`: the upgrade queue's own cost (issue 10, section 5).
 *
 * A real git repository of BENCH_FILES files (default 10,000) is made in a temp dir; the API runs in this process on
 * SQLite with `UPGRADE_TEST_COMMAND=true` (the test command's own time is measured separately and subtracted).
 * 1. Sequential: BENCH_SEQUENTIAL proposals (default 10), each proposed by an agent as a diff, approved by the admin,
 *    and waited for: per proposal the propose call's latency (git apply into a temporary index + diff + insert) and
 *    the run's duration from `testStartedAt` to applied (resetting the reused lane worktree of 10,000 files to the
 *    target head, or creating it on the first run; merge, test, compare-and-swap fast-forward), minus the mean time
 *    of `/bin/sh -c true`.
 * 2. Burst: BENCH_BURST proposals (default 50) proposed, then all approved at once; waits until every one is final and
 *    checks that they were applied in queue order and none is left in `testing`.
 * The last line printed is one JSON object with every figure (ms).
 */
import 'reflect-metadata';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpgradeDetailDto } from '@app/contracts';
import { createApp } from '../app.factory';
import { AuthService } from '../auth/auth.service';
import { loadConfig } from '../config/app-config';

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@example.com' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, mean: Math.round(s.reduce((a, b) => a + b, 0) / s.length), p50: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

/** A new-file diff as git prints it. */
function newFileDiff(path: string, content: string): string {
  const lines = content.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
  return `diff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}\n`;
}

async function main(): Promise<void> {
  const files = Number(process.env.BENCH_FILES ?? 10_000);
  const sequential = Number(process.env.BENCH_SEQUENTIAL ?? 10);
  const burst = Number(process.env.BENCH_BURST ?? 50);
  const dir = mkdtempSync(join(tmpdir(), 'mc-bench-upgrades-'));
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  let t = performance.now();
  git(repo, 'init', '-q', '-b', 'main');
  for (let i = 0; i < files; i++) {
    const d = join(repo, 'src', `m${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.ts`), `export const v${i} = ${i};\n`);
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', `${files} files`);
  process.stderr.write(`repo: ${files} files in ${Math.round(performance.now() - t)} ms\n`);

  // the test command's own cost, to subtract
  const shTimes: number[] = [];
  for (let i = 0; i < 20; i++) {
    t = performance.now();
    spawnSync('/bin/sh', ['-c', 'true'], { cwd: repo });
    shTimes.push(performance.now() - t);
  }
  const testCommandMs = shTimes.reduce((a, b) => a + b, 0) / shTimes.length;

  const config = loadConfig({
    SQLITE_PATH: join(dir, 'bench.db'),
    ADMIN_PASSWORD: 'bench-admin-password',
    LOG_LEVEL: 'error',
    WEB_DIST: '',
    REDIS_URL: '',
    DATABASE_URL: '',
    UPGRADE_REPO_PATH: repo,
    UPGRADE_TEST_COMMAND: 'true',
    UPGRADE_WORKTREE_DIR: join(dir, 'worktrees'),
    UPGRADE_POLL_MS: 50,
    NODE_ENV: 'production',
  });
  delete (config as { DATABASE_URL?: string }).DATABASE_URL;
  delete (config as { REDIS_URL?: string }).REDIS_URL;
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const auth = app.get(AuthService);
  const { principal } = await auth.login('admin', 'bench-admin-password', '127.0.0.1');
  const { key: adminKey } = await auth.createUserApiKey('bench', 'admin', principal);
  const call = async <T>(key: string, method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const enrolled = await call<{ key: string }>(adminKey, 'POST', '/api/agents', { name: 'bench-forge' });
  const agentKey = enrolled.key;
  const propose = (i: number) => call<UpgradeDetailDto>(agentKey, 'POST', '/api/upgrades/diff', { title: `bench ${i}`, diff: newFileDiff(`bench/p${i}.ts`, `export const p${i} = ${i};\n`) });
  const approve = (u: UpgradeDetailDto) => call<UpgradeDetailDto>(adminKey, 'POST', `/api/upgrades/${u.id}/approve`, { diffSha256: u.diffSha256 });
  const final = async (id: string): Promise<UpgradeDetailDto> => {
    for (;;) {
      const u = await call<UpgradeDetailDto>(adminKey, 'GET', `/api/upgrades/${id}`);
      if (['applied', 'failed', 'rolled_back'].includes(u.state)) return u;
      await sleep(20);
    }
  };

  // 1. sequential
  const proposeMs: number[] = [];
  const runMs: number[] = [];
  for (let i = 0; i < sequential; i++) {
    t = performance.now();
    const u = await propose(i);
    proposeMs.push(performance.now() - t);
    await approve(u);
    const done = await final(u.id);
    if (done.state !== 'applied') throw new Error(`sequential ${i} ended ${done.state}: ${done.failureMessage}`);
    runMs.push(Date.parse(done.finishedAt!) - Date.parse(done.testStartedAt!));
  }
  const overhead = runMs.map((ms) => Math.max(0, ms - testCommandMs));
  process.stderr.write(`sequential: propose p50 ${stats(proposeMs).p50.toFixed(0)} ms, run p50 ${stats(runMs).p50} ms (test command ${testCommandMs.toFixed(1)} ms)\n`);

  // 2. burst: propose all, approve all at once, wait for all
  const proposals: UpgradeDetailDto[] = [];
  for (let i = 0; i < burst; i++) proposals.push(await propose(1000 + i));
  t = performance.now();
  const approved = await Promise.all(proposals.map(approve));
  const byPosition = [...approved].sort((a, b) => (a.queuePosition ?? 0) - (b.queuePosition ?? 0)).map((u) => u.id);
  const finals = await Promise.all(proposals.map((p) => final(p.id)));
  const burstMs = performance.now() - t;
  const appliedOrder = [...finals].sort((a, b) => a.finishedAt!.localeCompare(b.finishedAt!)).map((u) => u.id);
  const left = await call<{ items: unknown[] }>(adminKey, 'GET', '/api/upgrades?state=testing,queued,approved');
  const report = {
    benchmark: 'upgrades',
    files,
    testCommandMs: Number(testCommandMs.toFixed(1)),
    sequential: { proposeMs: stats(proposeMs.map((x) => Math.round(x))), runMs: stats(runMs), overheadMs: stats(overhead.map((x) => Math.round(x))) },
    burst: {
      proposals: burst,
      totalMs: Math.round(burstMs),
      perProposalMs: Math.round(burstMs / burst),
      states: finals.reduce<Record<string, number>>((acc, u) => ({ ...acc, [u.state]: (acc[u.state] ?? 0) + 1 }), {}),
      inQueueOrder: JSON.stringify(appliedOrder) === JSON.stringify(byPosition),
      leftInTestingOrQueued: left.items.length,
      attempts: finals.reduce((a, u) => a + u.attempt, 0),
    },
    targetMet: stats(overhead).p50 <= 1000,
  };
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(report)}\n`);
  if (!report.burst.inQueueOrder || report.burst.leftInTestingOrQueued !== 0 || report.burst.states.applied !== burst) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
