import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpgradeDetailDto } from '@app/contracts';
import { git, makeRepo, unifiedDiff, type TestRepo } from '../support/git-repo';
import { ensureBuilt, startServer, stop, type Server } from '../support/server-process';
import { describeWithRedis, TEST_REDIS_URL } from '../support/services';
import { ADMIN_PASSWORD, createKeyWithPassword, createPgDatabase, waitFor } from '../support/test-app';

async function api(s: Server, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Ev = { seq: number; type: string; data: { upgradeId?: string; attempt?: number } };

/**
 * Issue 10 section 3 across instances (BRIEF section 5: work that must happen once is claimed once): three API
 * processes on one PostgreSQL and Redis share one target repository (each with its own worktree directory, as on
 * separate hosts). Proposals approved through different instances, several at once, are each run exactly once per
 * attempt (one `upgrade.testing` per attempt, one `upgrade.applied`), applied in queue order, and the target ends at
 * the last tested merge commit with the first-parent history = the merge commits in queue order.
 */
describeWithRedis('upgrade queue across three instances (PostgreSQL + Redis)', () => {
  const N = 9;
  let pg: { url: string; drop(): Promise<void> };
  let repo: TestRepo;
  let dir: string;
  const servers: Server[] = [];
  const keys: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    pg = await createPgDatabase();
    repo = makeRepo();
    dir = mkdtempSync(join(tmpdir(), 'mc-upgrade-cluster-'));
    for (let i = 0; i < 3; i++) {
      const s = await startServer({
        DATABASE_URL: pg.url,
        REDIS_URL: TEST_REDIS_URL,
        UPGRADE_REPO_PATH: repo.path,
        // long enough that approvals on other instances arrive while one runs
        UPGRADE_TEST_COMMAND: 'sh run-tests.sh && sleep 0.3',
        UPGRADE_WORKTREE_DIR: join(dir, `wt-${i}`),
        UPGRADE_POLL_MS: '100',
        UPGRADE_LEASE_MS: '5000',
        HOME: process.env.HOME ?? tmpdir(),
      });
      servers.push(s);
      keys.push(await createKeyWithPassword(s.url, 'admin', ADMIN_PASSWORD, 'operator'));
    }
  }, 180_000);

  afterAll(async () => {
    for (const s of servers) await stop(s).catch(() => undefined);
    await pg?.drop();
    repo?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('approvals through different instances: each run once, applied in queue order, target at the last tested commit', async () => {
    const prev = repo.head();
    const agent = await api(servers[0], keys[0], 'POST', '/api/agents', { name: 'cluster-forge' });
    const agentKey = agent.body.key as string;
    const proposals: UpgradeDetailDto[] = [];
    for (let i = 0; i < N; i++) {
      const s = servers[i % 3];
      const r = await api(s, agentKey, 'POST', '/api/upgrades/diff', { title: `cluster ${i}`, diff: unifiedDiff(`cluster/f${i}.txt`, null, `${i}\n`) });
      expect(r.status).toBe(201);
      proposals.push(r.body as unknown as UpgradeDetailDto);
    }
    // approve all at once, proposal i through instance (i + 1) % 3
    const approved = await Promise.all(proposals.map((p, i) => api(servers[(i + 1) % 3], keys[(i + 1) % 3], 'POST', `/api/upgrades/${p.id}/approve`, { diffSha256: p.diffSha256 })));
    expect(approved.map((r) => r.status)).toEqual(proposals.map(() => 200));
    const positions = approved.map((r) => r.body.queuePosition as number);
    expect(new Set(positions).size).toBe(N);
    const queueOrder = proposals.map((p, i) => ({ id: p.id, pos: positions[i] })).sort((a, b) => a.pos - b.pos).map((x) => x.id);

    const finals = (await waitFor(async () => {
      const rows = await Promise.all(proposals.map((p, i) => api(servers[i % 3], keys[i % 3], 'GET', `/api/upgrades/${p.id}`)));
      return rows.every((r) => ['applied', 'failed', 'rolled_back'].includes(r.body.state as string)) ? rows.map((r) => r.body as unknown as UpgradeDetailDto) : null;
    }, 120_000)) as UpgradeDetailDto[];
    expect(finals.map((u) => u.state)).toEqual(proposals.map(() => 'applied'));
    const byId = new Map(finals.map((u) => [u.id, u]));

    // applied in queue order: each one was tested on the previous one's merge commit
    let expectedBase = prev;
    for (const id of queueOrder) {
      const u = byId.get(id)!;
      expect(u.previousHead).toBe(expectedBase);
      expect(git(repo.path, 'rev-parse', `${u.mergeCommit}^1`)).toBe(expectedBase);
      expectedBase = u.mergeCommit!;
    }
    // the target ends at the last tested merge commit; its first-parent history is the merges in queue order
    const last = byId.get(queueOrder[N - 1])!;
    expect(repo.head()).toBe(last.mergeCommit);
    const firstParents = git(repo.path, 'rev-list', '--first-parent', `${prev}..main`).split('\n').reverse();
    expect(firstParents).toEqual(queueOrder.map((id) => byId.get(id)!.mergeCommit));
    expect(git(repo.path, 'status', '--porcelain')).toBe('');

    // exactly once: one upgrade.testing per attempt, one upgrade.applied, whichever instance ran it
    const evs = (await api(servers[2], keys[2], 'GET', '/api/events?channel=upgrades&after=0&limit=1000')).body.items as Ev[];
    for (const id of queueOrder) {
      const mine = evs.filter((e) => e.data.upgradeId === id);
      const testing = mine.filter((e) => e.type === 'upgrade.testing').map((e) => e.data.attempt);
      expect(testing).toEqual(Array.from({ length: byId.get(id)!.attempt }, (_, k) => k + 1));
      expect(mine.filter((e) => e.type === 'upgrade.applied')).toHaveLength(1);
      expect(mine.filter((e) => e.type === 'upgrade.failed')).toHaveLength(0);
    }
    // the applied events are in queue order in the log too
    const appliedOrder = evs.filter((e) => e.type === 'upgrade.applied' && queueOrder.includes(e.data.upgradeId!)).map((e) => e.data.upgradeId);
    expect(appliedOrder).toEqual(queueOrder);
    // nothing left running on any instance
    for (let i = 0; i < 3; i++) {
      const left = await api(servers[i], keys[i], 'GET', '/api/upgrades?state=testing,queued,approved');
      expect(left.body.items).toEqual([]);
    }
  }, 180_000);
});
