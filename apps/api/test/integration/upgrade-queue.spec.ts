import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { EventEnvelope, UpgradeDetailDto } from '@app/contracts';
import { git, makeRepo, unifiedDiff, type TestRepo } from '../support/git-repo';
import { as, enrollAgent, eventsOf } from '../support/swarm-helpers';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

const APP_TXT = 'line 1\nline 2\nline 3\n';
const FINAL = ['applied', 'failed', 'rolled_back', 'rejected', 'expired', 'cancelled'];

function upgradeEnv(repo: TestRepo, worktrees: string, extra: Record<string, unknown> = {}) {
  return {
    UPGRADE_REPO_PATH: repo.path,
    UPGRADE_TEST_COMMAND: 'sh run-tests.sh',
    UPGRADE_HEALTH_COMMAND: 'test ! -f UNHEALTHY',
    UPGRADE_POLL_MS: 50,
    UPGRADE_WORKTREE_DIR: worktrees,
    UPGRADE_TEST_TIMEOUT_MS: 20_000,
    ...extra,
  };
}

/** Row counts of the upgrade tables and the non-router event log: compare before/after a refused request. */
async function upgradeCounts(t: TestApp): Promise<Record<string, number>> {
  const ds = t.app.get(DataSource);
  const out: Record<string, number> = {};
  for (const [k, sql] of [
    ['upgrades', 'SELECT COUNT(*) AS n FROM upgrades'],
    ['decisions', 'SELECT COUNT(*) AS n FROM upgrade_decisions'],
    ['events', "SELECT COUNT(*) AS n FROM event_log WHERE channel <> 'router'"],
  ] as const) {
    out[k] = Number(((await ds.query(sql)) as { n: number | string }[])[0].n);
  }
  const states: { state: string; n: number | string }[] = await ds.query('SELECT state, COUNT(*) AS n FROM upgrades GROUP BY state');
  for (const s of states) out[`state:${s.state}`] = Number(s.n);
  return out;
}

describe.each(databaseKinds())('upgrade queue (%s)', (db) => {
  let repo: TestRepo;
  let worktrees: string;
  let t: TestApp;
  let op: string;
  let op2: string;
  let agent: { id: string; key: string };
  let other: { id: string; key: string };

  const finalOf = async (id: string, timeoutMs = 30_000): Promise<UpgradeDetailDto> =>
    waitFor<UpgradeDetailDto | null>(async () => {
      const r = await as(t, op).get(`/api/upgrades/${id}`).expect(200);
      return FINAL.includes(r.body.state) ? (r.body as UpgradeDetailDto) : null;
    }, timeoutMs) as Promise<UpgradeDetailDto>;

  const proposeDiff = async (key: string, title: string, diff: string) => (await as(t, key).post('/api/upgrades/diff', { title, rationale: `why: ${title}`, diff }).expect(201)).body as UpgradeDetailDto;

  beforeAll(async () => {
    repo = makeRepo();
    worktrees = mkdtempSync(join(tmpdir(), 'mc-upgrade-wt-'));
    t = await startTestApp(upgradeEnv(repo, worktrees), db);
    op = await createUserKey(t, 'operator', `op1${db}`);
    op2 = await createUserKey(t, 'operator', `op2${db}`);
    agent = await enrollAgent(t, `forge-${db}`);
    other = await enrollAgent(t, `other-${db}`);
  });

  afterAll(async () => {
    await t?.close();
    repo?.remove();
  });

  it('config says where and how; a viewer can read it', async () => {
    const viewer = await createUserKey(t, 'viewer', `viewer${db}`);
    const res = await as(t, viewer).get('/api/upgrades/config').expect(200);
    expect(res.body).toMatchObject({ enabled: true, hint: null, repoPath: repo.path, targetBranch: 'main', testCommand: 'sh run-tests.sh', maxDiffLines: 10_000, requiredApprovals: 1 });
    expect(res.body.protectedPaths).toContain('.ci/');
    await as(t, viewer).post('/api/upgrades/diff', { title: 'x', diff: 'x' }).expect(403);
  });

  it('an agent proposes a diff: base = target head, diff + sha256, files and line counts, proposed + approval_added events', async () => {
    const before = repo.head();
    const diff = unifiedDiff('src/app.txt', APP_TXT, 'line 1\nline 2 changed\nline 3\nline 4\n');
    const up = await proposeDiff(agent.key, 'tweak app', diff);
    expect(up).toMatchObject({ state: 'proposed', kind: 'diff', baseCommit: before, proposedByAgentId: agent.id, linesAdded: 2, linesRemoved: 1, requiresAdmin: false, approvals: 0 });
    expect(up.files).toEqual([expect.objectContaining({ path: 'src/app.txt', status: 'modified', added: 2, removed: 1, binary: false, protected: false })]);
    expect(up.diffSha256).toBe(createHash('sha256').update(up.diff).digest('hex'));
    expect(up.diff).toContain('+line 2 changed');
    expect(git(repo.path, 'rev-parse', `${up.headCommit}^`)).toBe(before);
    expect(repo.head()).toBe(before); // proposing never moves the target
    const evs = (await eventsOf(t, 'upgrade.proposed,upgrade.approval_added')).filter((e) => (e.data as Record<string, unknown>).upgradeId === up.id);
    expect(evs.map((e) => [e.type, e.channel])).toEqual([
      ['upgrade.proposed', 'upgrades'],
      ['upgrade.approval_added', 'upgrades'],
    ]);
    expect(evs[0].data).toMatchObject({ by: agent.id, diffSha256: up.diffSha256 });
    const list = await as(t, op).get('/api/upgrades?state=proposed').expect(200);
    expect(list.body.pending).toBeGreaterThanOrEqual(1);
    expect(list.body.items.map((i: { id: string }) => i.id)).toContain(up.id);
    expect(list.body.items[0].diff).toBeUndefined();
    await as(t, agent.key).post(`/api/upgrades/${up.id}/cancel`, {}).expect(200);
  });

  it('bad input gets 4xx and changes nothing', async () => {
    const mine = await proposeDiff(agent.key, 'bad input target', unifiedDiff('docs/a.md', null, 'a\n'));
    const byOp = await proposeDiff(op, 'operator proposal', unifiedDiff('docs/b.md', null, 'b\n'));
    const before = await upgradeCounts(t);
    const head = repo.head();
    const refs = () => git(repo.path, 'for-each-ref', '--format=%(refname)', 'refs/upgrades/');
    const refsBefore = refs();
    const cases: [request.Test, number, string][] = [
      [as(t, agent.key).post('/api/upgrades/branch', { title: 'x', branch: '../etc' }), 400, 'upgrade/invalid_ref'],
      [as(t, agent.key).post('/api/upgrades/branch', { title: 'x', branch: '--upload-pack=evil' }), 400, 'upgrade/invalid_ref'],
      [as(t, agent.key).post('/api/upgrades/branch', { title: 'x', branch: 'no-such-branch' }), 400, 'upgrade/unknown_branch'],
      [as(t, agent.key).post('/api/upgrades/branch', { title: 'x', branch: 'main' }), 400, 'upgrade/invalid_ref'],
      [as(t, agent.key).post('/api/upgrades/diff', { title: 'x', diff: unifiedDiff('src/app.txt', 'not\nthe\ncontent\n', 'other\n') }), 400, 'upgrade/diff_does_not_apply'],
      [as(t, agent.key).post('/api/upgrades/diff', { title: 'x', diff: 'this is not a diff at all' }), 400, 'upgrade/diff_does_not_apply'],
      [as(t, agent.key).post('/api/upgrades/diff', { title: '', diff: 'x' }), 400, 'request/bad_request'],
      [as(t, agent.key).post('/api/upgrades/diff', { title: 'x', diff: 'x', extra: 1 }), 400, 'request/bad_request'],
      [as(t, op).get('/api/upgrades/00000000-0000-4000-8000-000000000000'), 404, 'upgrade/not_found'],
      [as(t, op).post('/api/upgrades/00000000-0000-4000-8000-000000000000/approve', {}), 404, 'upgrade/not_found'],
      [as(t, op).get('/api/upgrades/not-a-uuid'), 400, 'request/invalid_id'],
      [as(t, op).get('/api/upgrades?state=bogus'), 400, 'request/bad_request'],
      [as(t, agent.key).post(`/api/upgrades/${mine.id}/approve`, {}), 403, 'auth/forbidden'],
      [as(t, op).post(`/api/upgrades/${byOp.id}/approve`, {}), 403, 'upgrade/own_proposal'],
      [as(t, op2).post(`/api/upgrades/${mine.id}/approve`, { diffSha256: 'a'.repeat(64) }), 409, 'upgrade/stale_hash'],
      [as(t, op2).post(`/api/upgrades/${mine.id}/approve`, { diffSha256: 'nothex' }), 400, 'request/bad_request'],
      [as(t, other.key).post(`/api/upgrades/${mine.id}/cancel`, {}), 403, 'upgrade/not_proposer'],
      [as(t, op).post(`/api/upgrades/${mine.id}/retry`), 409, 'upgrade/invalid_transition'],
    ];
    for (const [req, status, code] of cases) {
      const res = await req;
      expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
      expect(typeof res.body.message).toBe('string');
    }
    // a 20 MB diff: 413 from the body limit (raw upload and JSON alike)
    const huge = `diff --git a/big.txt b/big.txt\nnew file mode 100644\n--- /dev/null\n+++ b/big.txt\n@@ -0,0 +1 @@\n+${'x'.repeat(20 * 1024 * 1024)}\n`;
    const raw = await request(t.url).post('/api/upgrades/diff/raw?title=huge').set('authorization', `Bearer ${agent.key}`).set('content-type', 'text/x-diff').send(huge);
    expect(raw.status).toBe(413);
    const json = await as(t, agent.key).post('/api/upgrades/diff', { title: 'huge', diff: huge });
    expect(json.status).toBe(413);
    // over the line limit (10,000 changed lines)
    const many = unifiedDiff('many.txt', null, Array.from({ length: 10_001 }, (_, i) => `l${i}`).join('\n') + '\n');
    const tooMany = await request(t.url).post('/api/upgrades/diff/raw?title=many').set('authorization', `Bearer ${agent.key}`).set('content-type', 'text/x-diff').send(many);
    expect({ status: tooMany.status, code: tooMany.body.code }).toEqual({ status: 400, code: 'upgrade/too_many_lines' });
    expect(await upgradeCounts(t)).toEqual(before);
    expect(repo.head()).toBe(head);
    expect(refs()).toBe(refsBefore);
    await as(t, op).post(`/api/upgrades/${mine.id}/cancel`, {}).expect(200);
    await as(t, op2).post(`/api/upgrades/${byOp.id}/cancel`, {}).expect(200);
  });

  it('approve -> queued -> testing in an isolated worktree -> output streamed -> fast-forward to the tested merge -> applied', async () => {
    const prev = repo.head();
    const up = await proposeDiff(agent.key, 'add feature', unifiedDiff('src/feature.txt', null, 'feature\n'));
    const approved = await as(t, op).post(`/api/upgrades/${up.id}/approve`, { comment: 'looks good', diffSha256: up.diffSha256 }).expect(200);
    expect(['queued', 'testing', 'applied']).toContain(approved.body.state);
    // approving twice
    const twice = await as(t, op2).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 });
    expect({ status: twice.status, code: twice.body.code }).toEqual({ status: 409, code: 'upgrade/invalid_transition' });
    const done = await finalOf(up.id);
    expect(done).toMatchObject({ state: 'applied', previousHead: prev, testedOnCommit: prev, attempt: 1, exitCode: 0, failureReason: null });
    expect(repo.head()).toBe(done.mergeCommit);
    expect(git(repo.path, 'rev-list', '--parents', '-n', '1', done.mergeCommit!).split(' ').slice(1)).toEqual([prev, up.headCommit]);
    // the live tree followed the fast-forward and is clean; the only other worktree is the queue's reused lane,
    // left detached at the tested merge commit
    expect(readFileSync(join(repo.path, 'src/feature.txt'), 'utf8')).toBe('feature\n');
    expect(git(repo.path, 'status', '--porcelain')).toBe('');
    expect(readdirSync(worktrees)).toEqual(['lane']);
    expect(git(repo.path, 'worktree', 'list').split('\n')).toHaveLength(2);
    expect(git(join(worktrees, 'lane'), 'rev-parse', 'HEAD')).toBe(done.mergeCommit);
    const logs = await as(t, op).get(`/api/upgrades/${up.id}/logs`).expect(200);
    expect(logs.body.testOutput).toContain(`TESTS-STARTED ${up.id} attempt 1`);
    expect(logs.body.testOutput).toContain('4 passed');
    const evs = (await as(t, op).get('/api/events?channel=upgrades&after=0&limit=1000').expect(200)).body.items.filter((e: EventEnvelope) => (e.data as Record<string, unknown>).upgradeId === up.id);
    const types = evs.map((e: EventEnvelope) => e.type);
    expect(types.filter((x: string) => x !== 'upgrade.test_output')).toEqual([
      'upgrade.proposed',
      'upgrade.approval_added',
      'upgrade.approval_recorded',
      'upgrade.approved',
      'upgrade.approval_resolved',
      'upgrade.queued',
      'upgrade.testing',
      'upgrade.applied',
    ]);
    const chunks = evs.filter((e: EventEnvelope) => e.type === 'upgrade.test_output').map((e: EventEnvelope) => (e.data as Record<string, unknown>).chunk).join('');
    expect(chunks).toBe(logs.body.testOutput);
    expect(done.decisions).toEqual([expect.objectContaining({ action: 'approve', by: `op1${db}`, role: 'operator', diffSha256: up.diffSha256, comment: 'looks good', active: true })]);
    // the proposing agent hears about it
    const msgs = await as(t, agent.key).get('/api/messages').expect(200);
    expect(msgs.body.items.map((m: { body: string }) => m.body)).toContainEqual(expect.stringContaining('was applied'));
  });

  it('test red -> failed by exit code even when the output says "passed"; target untouched; retry runs it again', async () => {
    const prev = repo.head();
    const up = await proposeDiff(agent.key, 'break tests', unifiedDiff('FAIL', null, 'yes\n'));
    await as(t, op).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 }).expect(200);
    const done = await finalOf(up.id);
    expect(done).toMatchObject({ state: 'failed', failureReason: 'tests_failed', exitCode: 1 });
    expect((await as(t, op).get(`/api/upgrades/${up.id}/logs`).expect(200)).body.testOutput).toContain('1 failed, 3 passed');
    expect(repo.head()).toBe(prev);
    expect(existsSync(join(repo.path, 'FAIL'))).toBe(false);
    expect(git(repo.path, 'status', '--porcelain')).toBe('');
    await as(t, op).post(`/api/upgrades/${up.id}/retry`).expect(200);
    const again = await finalOf(up.id);
    expect(again).toMatchObject({ state: 'failed', attempt: 2, failureReason: 'tests_failed' });
    expect(again.decisions.map((d) => d.action)).toEqual(['approve', 'retry']);
    expect(repo.head()).toBe(prev);
  });

  it('a conflict fails with the conflicting files and leaves the live tree alone', async () => {
    repo.commit('conflicting', { 'src/app.txt': 'line 1\nline 2 from branch\nline 3\n' });
    const up = (await as(t, agent.key).post('/api/upgrades/branch', { title: 'branch change', branch: 'conflicting' }).expect(201)).body as UpgradeDetailDto;
    expect(up).toMatchObject({ kind: 'branch', branch: 'conflicting', linesAdded: 1, linesRemoved: 1 });
    const mainCommit = repo.commit('main', { 'src/app.txt': 'line 1\nline 2 from main\nline 3\n' }, 'main moves');
    await as(t, op).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 }).expect(200);
    const done = await finalOf(up.id);
    expect(done).toMatchObject({ state: 'failed', failureReason: 'conflict', conflicts: ['src/app.txt'] });
    expect(repo.head()).toBe(mainCommit);
    expect(git(repo.path, 'status', '--porcelain')).toBe('');
    expect(readFileSync(join(repo.path, 'src/app.txt'), 'utf8')).toContain('from main');
  });

  it('a branch that moves after proposal: the stale approval is refused, the proposal returns to proposed with the new diff', async () => {
    const first = repo.commit('moving', { 'docs/moving.md': 'v1\n' });
    const up = (await as(t, agent.key).post('/api/upgrades/branch', { title: 'moving', branch: 'moving' }).expect(201)).body as UpgradeDetailDto;
    expect(up.headCommit).toBe(first);
    const second = repo.commit('moving', { 'docs/moving.md': 'v2\n' });
    const stale = await as(t, op).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 });
    expect({ status: stale.status, code: stale.body.code }).toEqual({ status: 409, code: 'upgrade/stale_hash' });
    const now = (await as(t, op).get(`/api/upgrades/${up.id}`).expect(200)).body as UpgradeDetailDto;
    expect(now).toMatchObject({ state: 'proposed', headCommit: second, approvals: 0 });
    expect(now.diffSha256).not.toBe(up.diffSha256);
    expect(now.diff).toContain('+v2');
    const dismissed = (await eventsOf(t, 'upgrade.approval_dismissed')).filter((e) => (e.data as Record<string, unknown>).upgradeId === up.id);
    expect(dismissed).toHaveLength(1);
    expect(dismissed[0].data).toMatchObject({ oldSha256: up.diffSha256, newSha256: now.diffSha256, oldHead: first, newHead: second });
    await as(t, op).post(`/api/upgrades/${up.id}/approve`, { diffSha256: now.diffSha256 }).expect(200);
    const done = await finalOf(up.id);
    expect(done.state).toBe('applied');
    expect(readFileSync(join(repo.path, 'docs/moving.md'), 'utf8')).toBe('v2\n');
  });

  it('health check red after apply -> rolled back to the previous head', async () => {
    const prev = repo.head();
    const up = await proposeDiff(agent.key, 'unhealthy', unifiedDiff('UNHEALTHY', null, 'boom\n'));
    await as(t, op).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 }).expect(200);
    const done = await finalOf(up.id);
    expect(done).toMatchObject({ state: 'rolled_back', previousHead: prev });
    expect(repo.head()).toBe(prev);
    expect(existsSync(join(repo.path, 'UNHEALTHY'))).toBe(false);
    expect(git(repo.path, 'status', '--porcelain')).toBe('');
    const rb = (await eventsOf(t, 'upgrade.rolled_back')).filter((e) => (e.data as Record<string, unknown>).upgradeId === up.id);
    expect(rb[0].data).toMatchObject({ from: done.mergeCommit, to: prev });
  });

  it('reject sends the reason to the agent; protected paths need an admin', async () => {
    const up = await proposeDiff(agent.key, 'no thanks', unifiedDiff('docs/no.md', null, 'no\n'));
    await as(t, op).post(`/api/upgrades/${up.id}/reject`, { comment: 'please add tests first' }).expect(200);
    const got = (await as(t, op).get(`/api/upgrades/${up.id}`).expect(200)).body as UpgradeDetailDto;
    expect(got.state).toBe('rejected');
    expect(got.decisions).toEqual([expect.objectContaining({ action: 'reject', comment: 'please add tests first', diffSha256: up.diffSha256 })]);
    const msgs = await as(t, agent.key).get('/api/messages').expect(200);
    expect(msgs.body.items.map((m: { body: string }) => m.body)).toContainEqual(expect.stringContaining('please add tests first'));
    const resolved = (await eventsOf(t, 'upgrade.approval_resolved')).filter((e) => (e.data as Record<string, unknown>).upgradeId === up.id);
    expect(resolved[0].data).toMatchObject({ outcome: 'rejected', by: `op1${db}` });
    const again = await as(t, op).post(`/api/upgrades/${up.id}/reject`, {});
    expect(again.status).toBe(409);

    const prot = await proposeDiff(agent.key, 'touch ci', unifiedDiff('.ci/pipeline.txt', 'steps: test\n', 'steps: none\n'));
    expect(prot.requiresAdmin).toBe(true);
    expect(prot.files[0].protected).toBe(true);
    const refused = await as(t, op).post(`/api/upgrades/${prot.id}/approve`, {});
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: 'upgrade/admin_required' });
    await as(t, t.adminKey).post(`/api/upgrades/${prot.id}/reject`, { comment: 'not the CI' }).expect(200);
  });

  it('the target moves while tests run: no fast-forward onto the new head, re-test there, then applied', async () => {
    const up = await proposeDiff(agent.key, 'slow one', unifiedDiff('SLOW', null, '3\n'));
    await as(t, op).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 }).expect(200);
    await waitFor(async () => (await as(t, op).get(`/api/upgrades/${up.id}/logs`).expect(200)).body.testOutput.includes('test 3 ok'), 20_000);
    const moved = repo.commit('main', { 'docs/concurrent.md': 'human commit\n' }, 'a human commits during the test');
    const done = await finalOf(up.id, 40_000);
    expect(done).toMatchObject({ state: 'applied', attempt: 2, testedOnCommit: moved, previousHead: moved });
    expect(repo.head()).toBe(done.mergeCommit);
    const testing = (await eventsOf(t, 'upgrade.testing')).filter((e) => (e.data as Record<string, unknown>).upgradeId === up.id);
    expect(testing.map((e) => (e.data as Record<string, unknown>).targetHead)).toEqual([expect.any(String), moved]);
    expect(String((testing[1].data as Record<string, unknown>).reason)).toContain('moved');
  });
});

describe.each(databaseKinds())('upgrade queue: approvals required, expiry, queue off (%s)', (db) => {
  let repo: TestRepo;
  let t: TestApp;
  let agent: { id: string; key: string };

  beforeAll(async () => {
    repo = makeRepo();
    t = await startTestApp(upgradeEnv(repo, mkdtempSync(join(tmpdir(), 'mc-upgrade-wt-')), { UPGRADE_REQUIRED_APPROVALS: 2, UPGRADE_PROPOSAL_TTL_MS: 4000 }), db);
    agent = await enrollAgent(t, `forge2-${db}`);
  });

  afterAll(async () => {
    await t?.close();
    repo?.remove();
  });

  it('two distinct approvals are needed; a moved branch dismisses the first', async () => {
    const op1 = await createUserKey(t, 'operator', `a1${db}`);
    const op2 = await createUserKey(t, 'operator', `a2${db}`);
    repo.commit('two', { 'docs/two.md': 'one\n' });
    const up = (await as(t, agent.key).post('/api/upgrades/branch', { title: 'two', branch: 'two' }).expect(201)).body as UpgradeDetailDto;
    const a = await as(t, op1).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 }).expect(200);
    expect(a.body).toMatchObject({ state: 'proposed', approvals: 1, requiredApprovals: 2 });
    const dup = await as(t, op1).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 });
    expect({ status: dup.status, code: dup.body.code }).toEqual({ status: 409, code: 'upgrade/already_approved' });
    repo.commit('two', { 'docs/two.md': 'two\n' });
    const stale = await as(t, op2).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 });
    expect(stale.status).toBe(409);
    const now = (await as(t, op1).get(`/api/upgrades/${up.id}`).expect(200)).body as UpgradeDetailDto;
    expect(now).toMatchObject({ state: 'proposed', approvals: 0 });
    expect(now.decisions.map((d) => [d.action, d.active])).toEqual([
      ['approve', false],
      ['dismiss', false],
    ]);
    await as(t, op1).post(`/api/upgrades/${up.id}/approve`, { diffSha256: now.diffSha256 }).expect(200);
    const b = await as(t, op2).post(`/api/upgrades/${up.id}/approve`, { diffSha256: now.diffSha256 }).expect(200);
    expect(b.body.approvals).toBe(2);
    const done = await waitFor(async () => {
      const r = (await as(t, op1).get(`/api/upgrades/${up.id}`).expect(200)).body as UpgradeDetailDto;
      return FINAL.includes(r.state) ? r : null;
    }, 30_000);
    expect(done!.state).toBe('applied');
  });

  it('an unanswered proposal expires at its deadline (expired event, approval resolved, agent told)', async () => {
    const up = (await as(t, agent.key).post('/api/upgrades/diff', { title: 'forgotten', diff: unifiedDiff('docs/f.md', null, 'f\n') }).expect(201)).body as UpgradeDetailDto;
    expect(Date.parse(up.expiresAt!) - Date.parse(up.createdAt)).toBeGreaterThanOrEqual(3900);
    const done = await waitFor(async () => {
      const r = (await as(t, t.adminKey).get(`/api/upgrades/${up.id}`).expect(200)).body as UpgradeDetailDto;
      return r.state === 'expired' ? r : null;
    }, 20_000);
    expect(done!.decisions).toEqual([expect.objectContaining({ action: 'expire', by: 'system' })]);
    const resolved = (await eventsOf(t, 'upgrade.expired,upgrade.approval_resolved')).filter((e) => (e.data as Record<string, unknown>).upgradeId === up.id);
    expect(resolved.map((e) => e.type)).toEqual(['upgrade.expired', 'upgrade.approval_resolved']);
    const late = await as(t, t.adminKey).post(`/api/upgrades/${up.id}/approve`, {});
    expect(late.status).toBe(409);
    const msgs = await as(t, agent.key).get('/api/messages').expect(200);
    expect(msgs.body.items.map((m: { body: string }) => m.body)).toContainEqual(expect.stringContaining('expired'));
  });

  it('with UPGRADE_REPO_PATH unset every endpoint says how to turn the queue on', async () => {
    if (db !== 'sqlite') return;
    const off = await startTestApp({}, 'sqlite');
    try {
      const cfg = await as(off, off.adminKey).get('/api/upgrades/config').expect(200);
      expect(cfg.body).toMatchObject({ enabled: false, repoPath: null });
      expect(cfg.body.hint).toContain('UPGRADE_REPO_PATH');
      for (const req of [
        as(off, off.adminKey).get('/api/upgrades'),
        as(off, off.adminKey).post('/api/upgrades/diff', { title: 'x', diff: 'y' }),
        as(off, off.adminKey).post('/api/upgrades/branch', { title: 'x', branch: 'y' }),
        as(off, off.adminKey).get('/api/upgrades/00000000-0000-4000-8000-000000000000'),
        as(off, off.adminKey).post('/api/upgrades/00000000-0000-4000-8000-000000000000/approve', {}),
      ]) {
        const res = await req;
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 503, code: 'upgrade/disabled' });
        expect(res.body.message).toContain('UPGRADE_REPO_PATH');
      }
    } finally {
      await off.close();
    }
  });
});
