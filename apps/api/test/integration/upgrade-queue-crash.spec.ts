import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpgradeDetailDto } from '@app/contracts';
import { git, makeRepo, unifiedDiff, type TestRepo } from '../support/git-repo';
import { ensureBuilt, kill9, startServer, type Server } from '../support/server-process';
import { ADMIN_PASSWORD, createKeyWithPassword, createPgDatabase, databaseKinds, waitFor } from '../support/test-app';

/**
 * Issue 10 section 3/5: `kill -9` of the server while a proposal is testing, and while the target is being
 * fast-forwarded. After a restart the proposal ends in a final state and the target branch is only ever at the
 * previous head or at a tested merge commit, never anywhere else; nothing stays in `testing`.
 */

async function api(s: Server, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.each(databaseKinds())('upgrade queue restart safety: kill -9 (%s)', (db) => {
  let dir: string;
  let repo: TestRepo;
  let worktrees: string;
  let markers: string;
  let baseEnv: Record<string, string>;
  let dropPg: (() => Promise<void>) | null = null;
  let server: Server | null = null;
  let opKey: string;
  let agentKey: string;

  const start = async (extra: Record<string, string> = {}) => {
    server = await startServer({ ...baseEnv, ...extra });
    opKey = await createKeyWithPassword(server.url, 'admin', ADMIN_PASSWORD, 'operator');
    return server;
  };

  const finalOf = (s: Server, id: string) =>
    waitFor(async () => {
      const r = await api(s, opKey, 'GET', `/api/upgrades/${id}`);
      return ['applied', 'failed', 'rolled_back'].includes(r.body.state as string) ? (r.body as unknown as UpgradeDetailDto) : null;
    }, 60_000) as Promise<UpgradeDetailDto>;

  /** The target is at `prev` or at a merge commit whose first parent is `prev` and that the queue tested. */
  const assertTargetSafe = (prev: string, tested: (string | null)[]) => {
    const head = repo.head();
    if (head === prev) return;
    expect(tested).toContain(head);
    expect(git(repo.path, 'rev-parse', `${head}^1`)).toBe(prev);
  };

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'mc-upgrade-crash-'));
    repo = makeRepo();
    worktrees = join(dir, 'worktrees');
    markers = mkdtempSync(join(dir, 'markers-'));
    let dbEnv: Record<string, string>;
    if (db === 'postgres') {
      const pg = await createPgDatabase();
      dropPg = pg.drop;
      dbEnv = { DATABASE_URL: pg.url };
    } else {
      dbEnv = { SQLITE_PATH: join(dir, 'upgrades.db') };
    }
    baseEnv = {
      ...dbEnv,
      UPGRADE_REPO_PATH: repo.path,
      UPGRADE_TEST_COMMAND: 'sh run-tests.sh',
      UPGRADE_HEALTH_COMMAND: 'test ! -f UNHEALTHY',
      UPGRADE_WORKTREE_DIR: worktrees,
      UPGRADE_POLL_MS: '100',
      UPGRADE_LEASE_MS: '1500',
      MARKER_DIR: markers,
      HOME: process.env.HOME ?? tmpdir(),
    };
    const s = await start();
    const enrolled = await api(s, opKey, 'POST', '/api/agents', { name: `crash-agent-${db}` });
    agentKey = enrolled.body.key as string;
    await kill9(s);
    server = null;
  }, 180_000);

  afterEach(async () => {
    if (server) await kill9(server);
    server = null;
  });

  afterAll(async () => {
    await dropPg?.();
    repo?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('killed while testing: after restart it is re-run from a clean worktree and applied; the target never moved meanwhile', async () => {
    const prev = repo.head();
    let s = await start();
    const up = (await api(s, agentKey, 'POST', '/api/upgrades/diff', { title: 'slow first run', diff: unifiedDiff('SLOW_FIRST', null, '15\n') })).body as unknown as UpgradeDetailDto;
    expect((await api(s, opKey, 'POST', `/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 })).status).toBe(200);
    await waitFor(() => existsSync(join(markers, `${up.id}.started`)), 30_000);
    await kill9(s);
    expect(repo.head()).toBe(prev);
    s = await start();
    const done = await finalOf(s, up.id);
    expect(done).toMatchObject({ state: 'applied', attempt: 2, previousHead: prev });
    expect(repo.head()).toBe(done.mergeCommit);
    assertTargetSafe(prev, [done.mergeCommit]);
    const evs = await api(s, opKey, 'GET', '/api/events?type=upgrade.testing&after=0&limit=100');
    const testing = (evs.body.items as { data: { upgradeId: string; reason: string; attempt: number } }[]).filter((e) => e.data.upgradeId === up.id);
    expect(testing.map((e) => e.data.attempt)).toEqual([1, 2]);
    expect(testing[1].data.reason).toContain('restarted');
    // the killed run's test command (its process group outlives the API) was ended before the lane was reused
    expect(s.output()).toContain('killing the orphaned test process group');
    // the killed run's worktree was reset and reused (one lane), and is clean: nothing of the killed run is left
    expect(readdirSync(worktrees)).toEqual(['lane']);
    expect(git(join(worktrees, 'lane'), 'rev-parse', 'HEAD')).toBe(done.mergeCommit);
    expect(git(join(worktrees, 'lane'), 'status', '--porcelain', '--ignored')).toBe('');
    expect(git(repo.path, 'status', '--porcelain')).toBe('');
    const list = await api(s, opKey, 'GET', '/api/upgrades?state=testing');
    expect(list.body.items).toEqual([]);
  });

  it('killed after the fast-forward, before it was recorded: the restart finds the target at the tested merge and finishes (health check, applied)', async () => {
    const prev = repo.head();
    let s = await start({ UPGRADE_FAULT_POINT: 'after_ff', UPGRADE_FAULT_DELAY_MS: '60000' });
    const up = (await api(s, agentKey, 'POST', '/api/upgrades/diff', { title: 'ff crash', diff: unifiedDiff('docs/ff.md', null, 'ff\n') })).body as unknown as UpgradeDetailDto;
    await api(s, opKey, 'POST', `/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 });
    await waitFor(() => s.output().includes('pausing 60000 ms at after_ff'), 30_000);
    const during = await api(s, opKey, 'GET', `/api/upgrades/${up.id}`);
    expect(during.body).toMatchObject({ state: 'testing', phase: 'fast_forwarding' });
    await kill9(s);
    expect(repo.head()).toBe(during.body.mergeCommit);
    assertTargetSafe(prev, [during.body.mergeCommit as string]);
    s = await start();
    const done = await finalOf(s, up.id);
    expect(done).toMatchObject({ state: 'applied', attempt: 1, mergeCommit: during.body.mergeCommit, previousHead: prev });
    expect(repo.head()).toBe(done.mergeCommit);
  });

  it('killed just before the fast-forward: the target stays at the previous head; the restart re-tests and applies', async () => {
    const prev = repo.head();
    let s = await start({ UPGRADE_FAULT_POINT: 'before_ff', UPGRADE_FAULT_DELAY_MS: '60000' });
    const up = (await api(s, agentKey, 'POST', '/api/upgrades/diff', { title: 'pre-ff crash', diff: unifiedDiff('docs/preff.md', null, 'x\n') })).body as unknown as UpgradeDetailDto;
    await api(s, opKey, 'POST', `/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 });
    await waitFor(() => s.output().includes('pausing 60000 ms at before_ff'), 30_000);
    const during = await api(s, opKey, 'GET', `/api/upgrades/${up.id}`);
    expect(during.body).toMatchObject({ state: 'testing', phase: 'testing' });
    await kill9(s);
    expect(repo.head()).toBe(prev);
    s = await start();
    const done = await finalOf(s, up.id);
    expect(done).toMatchObject({ state: 'applied', attempt: 2, previousHead: prev });
    assertTargetSafe(prev, [done.mergeCommit]);
    expect(repo.head()).toBe(done.mergeCommit);
  });

  it('a health check that goes red after restart-resumed apply still rolls back to the previous head', async () => {
    const prev = repo.head();
    let s = await start({ UPGRADE_FAULT_POINT: 'after_ff', UPGRADE_FAULT_DELAY_MS: '60000' });
    const up = (await api(s, agentKey, 'POST', '/api/upgrades/diff', { title: 'unhealthy after crash', diff: unifiedDiff('UNHEALTHY', null, 'x\n') })).body as unknown as UpgradeDetailDto;
    await api(s, opKey, 'POST', `/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 });
    await waitFor(() => s.output().includes('pausing 60000 ms at after_ff'), 30_000);
    await kill9(s);
    s = await start();
    const done = await finalOf(s, up.id);
    expect(done).toMatchObject({ state: 'rolled_back', previousHead: prev });
    expect(repo.head()).toBe(prev);
    expect(existsSync(join(repo.path, 'UNHEALTHY'))).toBe(false);
  });
});
