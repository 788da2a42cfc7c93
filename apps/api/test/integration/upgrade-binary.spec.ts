import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpgradeDetailDto } from '@app/contracts';
import { git, makeRepo, type TestRepo } from '../support/git-repo';
import { as, enrollAgent } from '../support/swarm-helpers';
import { createUserKey, startTestApp, waitFor, type TestApp } from '../support/test-app';

/** A PNG-like blob: a PNG signature, NUL bytes and every byte value, so git sees a binary file. */
function blob(seed: number): Buffer {
  const b = Buffer.alloc(2048);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b);
  for (let i = 8; i < b.length; i++) b[i] = (i * 31 + seed) % 256;
  return b;
}

/**
 * Issue 10 section 1: binary files are listed, not shown. A real git repository where a branch changes a binary
 * file (and adds a new one) next to a text change: the proposal lists both binary files with `binary: true` and 0/0
 * lines, its diff has git's "Binary files ... differ" line and none of the bytes, and the branch applies (the target
 * ends with the exact new bytes).
 */
describe('upgrade queue: binary files', () => {
  let repo: TestRepo;
  let t: TestApp;
  let op: string;
  let agent: { id: string; key: string };

  beforeAll(async () => {
    repo = makeRepo();
    // a binary file on main first
    writeFileSync(join(repo.path, 'logo.png'), blob(1));
    git(repo.path, 'add', 'logo.png');
    git(repo.path, 'commit', '-q', '-m', 'add logo');
    t = await startTestApp({
      UPGRADE_REPO_PATH: repo.path,
      UPGRADE_TEST_COMMAND: 'sh run-tests.sh',
      UPGRADE_POLL_MS: 50,
      UPGRADE_WORKTREE_DIR: mkdtempSync(join(tmpdir(), 'mc-upgrade-wt-')),
    });
    op = await createUserKey(t, 'operator', 'op-binary');
    agent = await enrollAgent(t, 'forge-binary');
  });

  afterAll(async () => {
    await t?.close();
    repo?.remove();
  });

  it('a branch changing a binary file: listed as binary, content not in the diff, applies with the exact bytes', async () => {
    const prev = repo.head();
    git(repo.path, 'checkout', '-q', '-b', 'new-logo');
    writeFileSync(join(repo.path, 'logo.png'), blob(2));
    writeFileSync(join(repo.path, 'icon.bin'), blob(3));
    writeFileSync(join(repo.path, 'README.md'), '# target\nwith a new logo\n');
    git(repo.path, 'add', '-A');
    git(repo.path, 'commit', '-q', '-m', 'new logo');
    git(repo.path, 'checkout', '-q', 'main');

    const res = await as(t, agent.key).post('/api/upgrades/branch', { title: 'new logo', rationale: 'brand', branch: 'new-logo' }).expect(201);
    const up = res.body as UpgradeDetailDto;
    const byPath = Object.fromEntries(up.files.map((f) => [f.path, f]));
    expect(byPath['logo.png']).toMatchObject({ status: 'modified', binary: true, added: 0, removed: 0 });
    expect(byPath['icon.bin']).toMatchObject({ status: 'added', binary: true, added: 0, removed: 0 });
    expect(byPath['README.md']).toMatchObject({ binary: false, added: 1, removed: 0 });
    expect(up).toMatchObject({ linesAdded: 1, linesRemoved: 0 });
    // listed, not shown: git's one-line notice, no bytes (no "GIT binary patch", no PNG signature, no NUL)
    expect(up.diff).toContain('Binary files a/logo.png and b/logo.png differ');
    expect(up.diff).toContain('Binary files /dev/null and b/icon.bin differ');
    expect(up.diff).not.toContain('GIT binary patch');
    expect(up.diff).not.toMatch(/\u0000|PNG\r\n/);
    expect(up.diff).toContain('+with a new logo');

    await as(t, op).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 }).expect(200);
    const done = (await waitFor(async () => {
      const r = await as(t, op).get(`/api/upgrades/${up.id}`).expect(200);
      return ['applied', 'failed', 'rolled_back'].includes(r.body.state) ? (r.body as UpgradeDetailDto) : null;
    }, 30_000)) as UpgradeDetailDto;
    expect(done).toMatchObject({ state: 'applied', previousHead: prev });
    expect(repo.head()).toBe(done.mergeCommit);
    expect(readFileSync(join(repo.path, 'logo.png')).equals(blob(2))).toBe(true);
    expect(readFileSync(join(repo.path, 'icon.bin')).equals(blob(3))).toBe(true);
    expect(git(repo.path, 'status', '--porcelain')).toBe('');
  });
});
