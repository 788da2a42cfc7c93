import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope, UpgradeDetailDto, UpgradeListDto } from '@app/contracts';
import { extractUnifiedDiff, FORGE_PATCH_TRIGGER } from '../../src/swarm/personas/llm-persona-executor';
import { makeRepo, unifiedDiff, type TestRepo } from '../support/git-repo';
import { as, taskEvents } from '../support/swarm-helpers';
import { createUserKey, startTestApp, waitFor, type TestApp } from '../support/test-app';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';

/**
 * Issue 10 section 4: the `forge` persona proposes a diff it wrote through the LLM router. A real git repository
 * as the upgrade target, forge spawned, a protocol-faithful fake Ollama as the model. A task assigned to forge that
 * asks for a patch: (a) the model answers with a valid unified diff -> a proposal by persona-forge, the task
 * completes with a note naming it; (b) garbage -> no proposal, the task still completes, with a note saying why.
 */
describe('forge persona proposes upgrades', () => {
  let repo: TestRepo;
  let t: TestApp;
  let op: string;
  let ollama: FakeLlmServer;

  beforeAll(async () => {
    repo = makeRepo();
    ollama = await startFake('ollama', 'ollama-local');
    const providers = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({
      SPAWN_PERSONAS: 'forge',
      LLM_PROVIDERS_PATH: providers,
      UPGRADE_REPO_PATH: repo.path,
      UPGRADE_TEST_COMMAND: 'sh run-tests.sh',
      UPGRADE_POLL_MS: 50,
      UPGRADE_WORKTREE_DIR: mkdtempSync(join(tmpdir(), 'mc-upgrade-wt-')),
    });
    op = await createUserKey(t, 'operator', 'op-forge');
  });

  afterAll(async () => {
    await t?.close();
    await ollama?.stop();
    repo?.remove();
  });

  type TaskView = { status: string; result: string | null };
  const finished = (id: string): Promise<TaskView> =>
    waitFor(async () => {
      const r = await as(t, t.adminKey).get(`/api/tasks/${id}`);
      return ['completed', 'failed'].includes(r.body.status) ? (r.body as TaskView) : null;
    }, 20_000) as Promise<TaskView>;
  const forgeProposals = async () => ((await as(t, op).get('/api/upgrades?agentId=persona-forge').expect(200)).body as UpgradeListDto).items;

  it('the trigger: a patch, a diff or a code change', () => {
    expect(FORGE_PATCH_TRIGGER.test('Write a patch that fixes the typo in README.md')).toBe(true);
    expect(FORGE_PATCH_TRIGGER.test('Make a code change: add a LICENSE file')).toBe(true);
    expect(FORGE_PATCH_TRIGGER.test('Fix the failing unit test in the parser')).toBe(false);
    expect(extractUnifiedDiff('Here you go:\n```diff\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n```\nDone.')).toBe('--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\nDone.\n');
    expect(extractUnifiedDiff('no diff here')).toBeNull();
  });

  it('(a) a valid unified diff from the model: forge proposes it, the task completes with a note naming the proposal', async () => {
    ollama.reply = `Here is the patch.\n\`\`\`diff\n${unifiedDiff('README.md', '# target\n', '# target\n\nForged by the swarm.\n')}\`\`\``;
    const before = repo.head();
    const task = (await as(t, op).post('/api/tasks', { description: 'Write a patch that adds a line to README.md', agentId: 'persona-forge' }).expect(201)).body as { id: string };
    const done = await finished(task.id);
    expect(done.status).toBe('completed');
    expect(done.result).toMatch(/Proposed upgrade [0-9a-f-]{36} \(1 file\(s\), \+2\/-0\)/);
    // the prompt told the model to answer with a diff and listed the repository's files
    const sent = ollama.chatRequests().at(-1)!.body as { messages: { role: string; content: string }[] };
    expect(sent.messages[1].content).toContain('Answer with ONLY a unified diff');
    expect(sent.messages[1].content).toContain('run-tests.sh');
    const items = await forgeProposals();
    expect(items).toHaveLength(1);
    const up = (await as(t, op).get(`/api/upgrades/${items[0].id}`).expect(200)).body as UpgradeDetailDto;
    expect(up).toMatchObject({ state: 'proposed', kind: 'diff', proposedByAgentId: 'persona-forge', baseCommit: before, linesAdded: 2, linesRemoved: 0 });
    expect(up.diff).toContain('+Forged by the swarm.');
    expect(done.result).toContain(up.id);
    expect(repo.head()).toBe(before);
    const types = (await taskEvents(t, task.id)).map((e: EventEnvelope) => [e.type, (e.data as { name?: string }).name ?? null]);
    expect(types).toEqual(expect.arrayContaining([
      ['tool.called', 'upgrade.propose'],
      ['tool.completed', 'upgrade.propose'],
    ]));
    // and it is a normal proposal: an operator approves it and it applies
    await as(t, op).post(`/api/upgrades/${up.id}/approve`, { diffSha256: up.diffSha256 }).expect(200);
    const applied = await waitFor(async () => {
      const r = await as(t, op).get(`/api/upgrades/${up.id}`).expect(200);
      return ['applied', 'failed'].includes(r.body.state) ? (r.body as UpgradeDetailDto) : null;
    }, 30_000);
    expect(applied).toMatchObject({ state: 'applied' });
    expect(repo.head()).toBe(applied!.mergeCommit);
  });

  it('(b) garbage from the model (or a diff that does not apply): no proposal, the task still completes with the reason', async () => {
    const count = (await forgeProposals()).length;
    ollama.reply = 'I am a tiny model. @@@ +++ --- lorem ipsum';
    const t1 = (await as(t, op).post('/api/tasks', { description: 'Make a code change: rename the README title', agentId: 'persona-forge' }).expect(201)).body as { id: string };
    const d1 = await finished(t1.id);
    expect(d1.status).toBe('completed');
    expect(d1.result).toContain('No upgrade proposed: the answer contains no unified diff.');
    // a well-formed diff against a file that does not exist: git apply refuses it, the reason is in the note
    ollama.reply = unifiedDiff('src/app.txt', 'no such\nlines\n', 'other\n');
    const t2 = (await as(t, op).post('/api/tasks', { description: 'Write a patch for src/app.txt', agentId: 'persona-forge' }).expect(201)).body as { id: string };
    const d2 = await finished(t2.id);
    expect(d2.status).toBe('completed');
    expect(d2.result).toMatch(/No upgrade proposed: The diff does not apply to main/);
    expect(await forgeProposals()).toHaveLength(count);
    const failed = (await taskEvents(t, t2.id)).filter((e: EventEnvelope) => e.type === 'tool.failed');
    expect(failed.map((e) => (e.data as { name: string; code: string }).code)).toEqual(['upgrade/diff_does_not_apply']);
    // the persona is still fine: a plain task (no patch asked) is answered as usual and proposes nothing
    ollama.reply = 'The parser test fails because of an off-by-one.';
    const t3 = (await as(t, op).post('/api/tasks', { description: 'Explain why the parser test fails', agentId: 'persona-forge' }).expect(201)).body as { id: string };
    const d3 = await finished(t3.id);
    expect(d3).toMatchObject({ status: 'completed', result: 'The parser test fails because of an off-by-one.' });
    expect(await forgeProposals()).toHaveLength(count);
  });
});
