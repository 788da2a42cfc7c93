import { Collector, connectLive, subscribe, type LiveSocket } from '../support/live-client';
import { eventLog, type TestEventLog } from '../support/event-log';
import { as, enrollAgent, sleep } from '../support/swarm-helpers';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * Issue 7, section 1: privileged data stays privileged on every path. One access rule (auth/access-policy.ts) is used
 * by REST (list, get, export, summary) and realtime (every room). Viewers and agents never see an event of a
 * privileged domain channel (`security`, `ledger`), not on `all`, `mobile`, `task:<id>` or `agent:<id>` either.
 */
describe.each(databaseKinds())('privileged events on every path (%s)', (db) => {
  let t: TestApp;
  let log: TestEventLog;
  let viewerKey: string;
  let agent: { id: string; key: string };
  const taskId = `task-${Date.now()}`;
  let secret: { id: string; seq: number }[] = [];
  let open: { id: string; seq: number }[] = [];

  beforeAll(async () => {
    t = await startTestApp({}, db);
    log = eventLog(t.app);
    viewerKey = await createUserKey(t, 'viewer');
    agent = await enrollAgent(t, `acc${Date.now() % 100000}`, { join: true });
    // a failed login is a real security event (username and ip)
    await as(t, t.adminKey).post('/api/auth/login').send({ username: 'nobody', password: 'wrong-password-x' }).expect(401);
  });
  afterAll(() => t.close());

  /** One privileged and one public event carrying the same task and agent ids (so they land in the same mixed rooms). */
  async function appendPair(tag: string): Promise<void> {
    const [s] = await log.append([
      { type: 'auth.key_created', source: 'auth', taskId, agentId: agent.id, data: { apiKeyId: tag, label: 'x', role: 'agent', prefix: 'mck_abcd', by: 'test' } },
    ]);
    const [o] = await log.append([{ type: 'tool.called', source: 'test', taskId, agentId: agent.id, data: { name: tag } }]);
    secret.push(s);
    open.push(o);
  }

  it('REST: viewers and agents get no security event from list, get, export or summary; operators do', async () => {
    await appendPair('rest');
    const securityIds = (await log.find({ channels: ['security'] }, 1000)).map((e) => e.id);
    expect(securityIds.length).toBeGreaterThan(1);
    for (const key of [viewerKey, agent.key]) {
      const list = await as(t, key).get('/api/events?channel=security&limit=1000').expect(200);
      expect(list.body.items).toEqual([]);
      const all = await as(t, key).get('/api/events?limit=1000').expect(200);
      expect(all.body.items.filter((e: { channel: string }) => e.channel === 'security' || e.channel === 'ledger')).toEqual([]);
      for (const id of securityIds.slice(0, 3)) await as(t, key).get(`/api/events/${id}`).expect(404);
      const nd = await as(t, key).get('/api/events/export?channel=security&format=ndjson').expect(200);
      expect(nd.text.trim()).toBe('');
      const csv = await as(t, key).get('/api/events/export?format=csv').expect(200);
      expect(csv.text).not.toContain('auth.');
      const summary = await as(t, key).get('/api/events/summary?minutes=60').expect(200);
      expect(Object.keys(summary.body.counts).filter((k) => k.startsWith('auth.'))).toEqual([]);
    }
    const op = await createUserKey(t, 'operator');
    const opList = await as(t, op).get('/api/events?channel=security&limit=1000').expect(200);
    expect(opList.body.items.map((e: { id: string }) => e.id)).toEqual(expect.arrayContaining(securityIds));
    await as(t, op).get(`/api/events/${securityIds[0]}`).expect(200);
    const opSummary = await as(t, op).get('/api/events/summary?minutes=60').expect(200);
    expect(opSummary.body.counts['auth.login_failed']).toBeGreaterThanOrEqual(1);
  });

  it('realtime: viewer on all, mobile, task and agent rooms and an agent on its task and agent rooms never receive a privileged event, live or in replay', async () => {
    const sockets: LiveSocket[] = [];
    const connect = async (key: string, channels: string[], since?: number) => {
      const s = await connectLive(t.url, key);
      sockets.push(s);
      const c = new Collector().attach(s);
      for (const ch of channels) expect(await subscribe(s, ch, since)).toMatchObject({ ok: true });
      return c;
    };
    try {
      const start = (await log.getHeadSeq()) - 0;
      secret = [];
      open = [];
      await appendPair('before'); // replayed on subscribe with since
      const viewer = await connect(viewerKey, ['all', 'mobile', `task:${taskId}`, `agent:${agent.id}`], start);
      const agentLive = await connect(agent.key, [`task:${taskId}`, `agent:${agent.id}`], start);
      const admin = await connect(t.adminKey, ['all', `task:${taskId}`, `agent:${agent.id}`], start);
      await appendPair('live');
      const secretSeqs = new Set(secret.map((e) => e.seq));
      // the admin sees both privileged events in every mixed room: proof they were delivered at all
      await waitFor(() => (['all', `task:${taskId}`, `agent:${agent.id}`].every((ch) => admin.seqs(ch).filter((s) => secretSeqs.has(s)).length === 2) ? true : null));
      // the public events reach the viewer and the agent in the same rooms
      const openSeqs = open.map((e) => e.seq);
      await waitFor(() => (viewer.seqs(`task:${taskId}`).filter((s) => openSeqs.includes(s)).length === 2 ? true : null));
      await waitFor(() => (agentLive.seqs(`agent:${agent.id}`).filter((s) => openSeqs.includes(s)).length === 2 ? true : null));
      await sleep(600); // a mobile digest interval and a few frames more
      for (const c of [viewer, agentLive]) {
        for (const [channel, events] of c.byChannel) {
          const leaked = events.filter((e) => e.channel === 'security' || e.channel === 'ledger' || secretSeqs.has(e.seq));
          expect({ channel, leaked }).toEqual({ channel, leaked: [] });
        }
      }
    } finally {
      for (const s of sockets) s.close();
    }
  });
});
