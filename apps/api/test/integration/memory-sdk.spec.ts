import { RestClient, facts, recall, remember, runMemoryCommand, setFact } from '@app/agent-sdk';
import { Writable } from 'node:stream';
import { databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/** SDK and CLI remember / recall / facts against the real API (issue 9 section 3). */
describe.each(databaseKinds())('agent-sdk memory (%s)', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('remember, recall (scoped + shared), facts set / as-of, and the CLI prints JSON', async () => {
    const rest = new RestClient({ baseUrl: t.url, apiKey: t.adminKey });
    const mine = await remember(rest, { content: 'the build cache lives in /var/cache/forge', agentId: 'agent-x' });
    await remember(rest, { content: 'shared: the build server reboots on Sundays' });
    await remember(rest, { content: 'private build notes of another agent', agentId: 'agent-y' });
    const r = await recall(rest, 'build', { filters: { agentId: 'agent-x', includeShared: true } });
    const ids = r.hits.map((h) => h.entry.agentId);
    expect(ids).toContain('agent-x');
    expect(ids).toContain(null);
    expect(ids).not.toContain('agent-y');
    expect(r.hits.some((h) => h.entry.id === mine.id)).toBe(true);
    await setFact(rest, { subject: 'operator', key: 'editor', content: 'vim', validFrom: '2025-01-01T00:00:00Z' });
    await setFact(rest, { subject: 'operator', key: 'editor', content: 'helix', validFrom: '2025-05-01T00:00:00Z' });
    expect((await facts(rest, { subject: 'operator', at: '2025-02-01T00:00:00Z' })).map((f) => f.content)).toEqual(['vim']);
    expect((await facts(rest, { subject: 'operator' })).map((f) => f.content)).toEqual(['helix']);
    let printed = '';
    const out = new Writable({ write: (c, _e, cb) => ((printed += String(c)), cb()) });
    const code = await runMemoryCommand('recall', ['--limit', '2', 'build', 'cache'], { MC_URL: t.url, MC_API_KEY: t.adminKey }, out);
    expect(code).toBe(0);
    expect(JSON.parse(printed).hits[0].entry.id).toBe(mine.id);
  });
});
