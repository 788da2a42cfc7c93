import { AgentClient, AgentSdkError, type ProposeUpgradeRequest } from '@app/agent-sdk';
import type { AgentMessageDto, EventEnvelope } from '@app/contracts';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, unifiedDiff, type TestRepo } from '../support/git-repo';
import { as, enrollAgent } from '../support/swarm-helpers';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

const CLI = join(__dirname, '..', '..', '..', '..', 'libs', 'agent-sdk', 'dist', 'cli.js');

/** Starts the agent CLI with `args` and `stdin`; `firstLine` resolves with its first stdout line, `done` at exit. */
function startCli(args: string[], stdin: string, env: Record<string, string>) {
  const p = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let gotLine: (line: string) => void = () => undefined;
  const firstLine = new Promise<string>((r) => (gotLine = r));
  p.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('\n')) gotLine(stdout.split('\n')[0]);
  });
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => p.on('close', (code) => resolve({ code, stdout, stderr })));
  p.stdin.end(stdin);
  return { firstLine, done };
}

describe.each(databaseKinds())('upgrade queue through the agent SDK and CLI (%s)', (db) => {
  let repo: TestRepo;
  let t: TestApp;
  let op: string;
  let agent: { id: string; key: string };
  let client: AgentClient;
  const upgradeEvents: EventEnvelope[] = [];
  const messages: AgentMessageDto[] = [];

  beforeAll(async () => {
    repo = makeRepo();
    t = await startTestApp(
      { UPGRADE_REPO_PATH: repo.path, UPGRADE_TEST_COMMAND: 'sh run-tests.sh', UPGRADE_POLL_MS: 50, UPGRADE_WORKTREE_DIR: mkdtempSync(join(tmpdir(), 'mc-upgrade-wt-')) },
      db,
    );
    op = await createUserKey(t, 'operator', `sdkop${db}`);
    agent = await enrollAgent(t, `sdk-forge-${db}`, { join: false });
    client = new AgentClient({ baseUrl: t.url, apiKey: agent.key, heartbeatIntervalMs: 0 });
    client.onUpgradeEvent((e) => void upgradeEvents.push(e));
    client.onMessage((m) => void messages.push(m));
    await client.join();
  });

  afterAll(async () => {
    client?.close();
    await t?.close();
    repo?.remove();
  });

  it('proposeUpgrade with a large diff (raw upload), events back to the proposer over its agent channel, applied', async () => {
    const big = Array.from({ length: 3000 }, (_, i) => `generated line ${i} ${'x'.repeat(60)}`).join('\n') + '\n';
    const req: ProposeUpgradeRequest = { title: 'big generated file', rationale: 'more data', diff: unifiedDiff('data/big.txt', null, big) };
    expect(Buffer.byteLength((req as { diff: string }).diff)).toBeGreaterThan(200 * 1024);
    const up = await client.proposeUpgrade(req);
    expect(up).toMatchObject({ state: 'proposed', proposedByAgentId: agent.id, linesAdded: 3000 });
    await as(t, op).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 }).expect(200);
    const done = await client.waitForUpgrade(up.id, { timeoutMs: 30_000, intervalMs: 100 });
    expect(done.state).toBe('applied');
    expect(repo.head()).toBe(done.mergeCommit);
    await waitFor(() => upgradeEvents.some((e) => e.type === 'upgrade.applied' && e.data.upgradeId === up.id));
    const types = upgradeEvents.filter((e) => (e.data as Record<string, unknown>).upgradeId === up.id).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['upgrade.proposed', 'upgrade.approved', 'upgrade.queued', 'upgrade.testing', 'upgrade.test_output', 'upgrade.applied']));
    await waitFor(() => messages.some((m) => m.body.includes('was applied')));
  });

  it('a rejection reason reaches the agent as a message; SDK errors carry the server code', async () => {
    const up = await client.proposeUpgrade({ title: 'not wanted', diff: unifiedDiff('docs/no.md', null, 'no\n') });
    await as(t, op).post(`/api/upgrades/${up.id}/reject`, { comment: 'out of scope for this sprint' }).expect(200);
    await waitFor(() => messages.some((m) => m.body.includes('out of scope for this sprint')));
    await waitFor(() => upgradeEvents.some((e) => e.type === 'upgrade.rejected' && e.data.upgradeId === up.id));
    const err = await client.proposeUpgrade({ title: 'nope', branch: 'does-not-exist' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentSdkError);
    expect(err).toMatchObject({ statusCode: 400, code: 'upgrade/unknown_branch' });
    const bad = await client.proposeUpgrade({ title: 'bad', diff: 'garbage' }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ statusCode: 400, code: 'upgrade/diff_does_not_apply' });
  });

  it('CLI: propose-upgrade --diff - --wait exits 0 when applied, 3 when tests fail; 1 on a server error, 2 on bad arguments', async () => {
    const env = { MC_URL: t.url, MC_API_KEY: agent.key };
    const args = (title: string) => ['propose-upgrade', '--title', title, '--diff', '-', '--wait', '--timeout-ms', '30000'];
    for (const [title, file, expected] of [
      ['from the cli', 'docs/cli.md', 0],
      ['cli breaks tests', 'FAIL', 3],
    ] as const) {
      const cli = startCli(args(title), unifiedDiff(file, null, 'cli\n'), env);
      const first = JSON.parse(await cli.firstLine) as { id: string; state: string; diffSha256: string; diff?: string };
      expect(first).toMatchObject({ state: 'proposed' });
      expect(first.diff).toBeUndefined();
      await as(t, op).post(`/api/upgrades/${first.id}/approve`, { diffSha256: first.diffSha256 }).expect(200);
      const res = await cli.done;
      expect(res.code).toBe(expected);
      const last = JSON.parse(res.stdout.trim().split('\n').pop()!) as { state: string };
      expect(last.state).toBe(expected === 0 ? 'applied' : 'failed');
    }
    const bad = await startCli(['propose-upgrade', '--title', 'x', '--diff', '-'], 'not a diff', env).done;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('upgrade/diff_does_not_apply');
    const usage = await startCli(['propose-upgrade', '--title', 'x'], '', env).done;
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('exactly one of --branch or --diff');
  }, 90_000);
});
