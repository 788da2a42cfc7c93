import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import request from 'supertest';
import { AgentClient, AgentSdkError, type TaskOffer } from '@app/agent-sdk';
import type { AgentDto, EnrollAgentResponse, EventEnvelope, TaskDetailDto, TaskDto } from '@app/contracts';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/** The built CLI (libs/agent-sdk/dist/cli.js); build the SDK before running this suite. */
const CLI = resolve(__dirname, '../../../../libs/agent-sdk/dist/cli.js');

interface CliRun {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

function spawnCli(args: string[], env: Record<string, string>): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, MC_URL: '', MC_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => stderr, exited };
}

describe.each(databaseKinds())('agent SDK and CLI against the real API (%s)', (db) => {
  let t: TestApp;
  const clients: AgentClient[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // REPLAY_MAX_EVENTS at its minimum so the gap test can push a reconnecting client past it.
    t = await startTestApp({ REPLAY_MAX_EVENTS: 100, HEARTBEAT_TIMEOUT_MS: 30_000 }, db);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    for (const ch of children.splice(0)) if (ch.exitCode === null) ch.kill('SIGKILL');
  });
  afterAll(() => t.close());

  const auth = (key: string) => ({ authorization: `Bearer ${key}` });

  async function enroll(name: string): Promise<EnrollAgentResponse> {
    const res = await request(t.url).post('/api/agents').set(auth(t.adminKey)).send({ name, capabilities: ['test'] }).expect(201);
    return res.body as EnrollAgentResponse;
  }

  async function postTask(body: { description: string; auctionWindowMs?: number; agentId?: string }): Promise<TaskDto> {
    const res = await request(t.url).post('/api/tasks').set(auth(t.adminKey)).send(body).expect(201);
    return res.body as TaskDto;
  }

  async function getTask(id: string): Promise<TaskDetailDto> {
    return (await request(t.url).get(`/api/tasks/${id}`).set(auth(t.adminKey)).expect(200)).body as TaskDetailDto;
  }

  async function getAgent(id: string): Promise<AgentDto> {
    return (await request(t.url).get(`/api/agents/${id}`).set(auth(t.adminKey)).expect(200)).body as AgentDto;
  }

  async function taskEvents(taskId: string): Promise<EventEnvelope[]> {
    const res = await request(t.url).get(`/api/events?taskId=${taskId}&after=0&limit=500`).set(auth(t.adminKey)).expect(200);
    return res.body.items as EventEnvelope[];
  }

  /** Polls until `fn` returns a value (not null/undefined) and returns it. */
  const waitForValue = <T>(fn: () => Promise<T | null | undefined>, timeoutMs = 10_000): Promise<T> =>
    waitFor(fn, timeoutMs, 50) as Promise<T>;

  const waitForStatus = (id: string, status: string, timeoutMs = 15_000) =>
    waitForValue(async () => {
      const task = await getTask(id);
      return task.status === status ? task : null;
    }, timeoutMs);

  function newClient(key: string, logs: string[] = []): AgentClient {
    const c = new AgentClient({
      baseUrl: t.url,
      apiKey: key,
      heartbeatIntervalMs: 300,
      onLog: (l) => logs.push(l),
      onError: (err, ctx) => logs.push(`error ${ctx}: ${err.message}`),
    });
    clients.push(c);
    return c;
  }

  it('gets the offer, bids, wins, runs and completes the task; events are in order', async () => {
    const { agent: enrolled, key } = await enroll('sdk-alpha');
    const client = newClient(key);
    const offers: TaskOffer[] = [];
    const assigned: TaskDto[] = [];
    client.onTaskOffer(async (offer) => {
      offers.push(offer);
      await client.bid(offer.taskId, 17);
    });
    client.onAssigned(async (task) => {
      assigned.push(task);
      await client.start(task.id);
      await client.progress(task.id, 'halfway', 0.5);
      await client.toolEvent('tool.called', task.id, { tool: 'echo', input: task.description });
      await client.toolEvent('tool.completed', task.id, { tool: 'echo' });
      await client.complete(task.id, `done: ${task.description}`);
    });

    const joined = await client.join({ capabilities: ['test', 'sdk'] });
    expect(joined).toMatchObject({ id: enrolled.id, status: 'idle', kind: 'external' });
    expect(client.agentId).toBe(enrolled.id);
    expect(client.socket?.connected).toBe(true);

    const task = await postTask({ description: 'summarise lightning fees', auctionWindowMs: 300 });
    const done = await waitForStatus(task.id, 'completed');
    expect(done.result).toBe('done: summarise lightning fees');
    expect(done.assignedAgentId).toBe(enrolled.id);
    expect(done.winningBidSats).toBe(17);
    expect(done.bids).toEqual([expect.objectContaining({ agentId: enrolled.id, bidSats: 17, won: true })]);
    expect(offers).toEqual([{ taskId: task.id, description: 'summarise lightning fees', closesAt: task.auctionClosesAt }]);
    expect(assigned.map((a) => a.id)).toEqual([task.id]);

    const events = await taskEvents(task.id);
    const order = ['task.created', 'task.bidding', 'bid.submitted', 'auction.closed', 'task.assigned', 'task.started', 'task.progress', 'tool.called', 'tool.completed', 'task.completed'];
    expect(events.map((e) => e.type).filter((type) => order.includes(type))).toEqual(order);
    const seqs = events.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const tool = events.find((e) => e.type === 'tool.called')!;
    expect(tool).toMatchObject({ agentId: enrolled.id, source: `agent:${enrolled.id}`, data: { tool: 'echo', input: 'summarise lightning fees' } });
    expect(client.lastSeq('swarm')).toBeGreaterThanOrEqual(events.find((e) => e.type === 'task.assigned')!.seq);

    // the heartbeat loop runs; REST errors carry the server's statusCode/code/message
    await waitFor(async () => (await getAgent(enrolled.id)).lastHeartbeatAt !== null, 5000, 50);
    const late = await client.bid(task.id, 5).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(AgentSdkError);
    expect(late).toMatchObject({ statusCode: 409, code: 'swarm/auction_closed' });
    expect((late as AgentSdkError).message).toMatch(/auction closed at/);
    await expect(client.start('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ statusCode: 404, code: 'swarm/task_not_found' });

    const left = await client.leave();
    expect(left.status).toBe('offline');
    expect(JSON.stringify(events)).not.toContain(key);
  });

  it('the CLI, as a real OS process, enrols with an operator key, runs the command and completes with its stdout', async () => {
    const run = spawnCli(['--url', t.url, '--name', 'cli-upper', '--capabilities', 'text', '--bid', '20', '--exec', 'tr a-z A-Z', '--heartbeat-ms', '500'], {
      MC_API_KEY: t.adminKey,
    });
    children.push(run.child);
    await waitFor(() => /joined as /.test(run.stderr()), 20_000, 50);
    const agents = (await request(t.url).get('/api/agents').set(auth(t.adminKey)).expect(200)).body.items as AgentDto[];
    const agent = agents.find((a) => a.name === 'cli-upper')!;
    expect(agent).toMatchObject({ kind: 'external', status: 'idle', capabilities: ['text'] });

    const task = await postTask({ description: 'make this loud please', auctionWindowMs: 300 });
    const done = await waitForStatus(task.id, 'completed', 20_000);
    expect(done.result).toBe('MAKE THIS LOUD PLEASE');
    expect(done.assignedAgentId).toBe(agent.id);
    expect(done.winningBidSats).toBe(20);
    const events = await taskEvents(task.id);
    const called = events.find((e) => e.type === 'tool.called')!;
    const completed = events.find((e) => e.type === 'tool.completed')!;
    expect(called.data).toEqual({ tool: 'exec', command: 'tr a-z A-Z' });
    expect(completed.data).toMatchObject({ tool: 'exec', exitCode: 0, durationMs: expect.any(Number) });
    expect(events.map((e) => e.type).filter((x) => ['task.started', 'tool.called', 'tool.completed', 'task.completed'].includes(x))).toEqual([
      'task.started',
      'tool.called',
      'tool.completed',
      'task.completed',
    ]);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect((await getAgent(agent.id)).status).toBe('offline');
    const log = run.stderr();
    expect(log).toMatch(/enrolled agent/);
    expect(log).toMatch(/completed /);
    expect(log).toMatch(/left the swarm/);
    expect(log).not.toMatch(/mck_/);

    // Same name again: 409 -> a fresh key for the existing agent. It only bids on matching offers, and a failing
    // command fails the task with the exit code and stderr tail.
    const again = spawnCli(
      [
        '--url', t.url, '--name', 'cli-upper', '--bid', '9', '--keywords', 'Explode,hang', '--timeout-ms', '500',
        '--exec', 'case "$TASK_DESCRIPTION" in *hang*) sleep 30;; esac; echo "kaboom: $TASK_ID" >&2; exit 3',
      ],
      { MC_API_KEY: t.adminKey },
    );
    children.push(again.child);
    await waitFor(() => /joined as /.test(again.stderr()), 20_000, 50);
    expect(again.stderr()).toMatch(/issued a fresh key for existing agent/);
    const ignored = await postTask({ description: 'a quiet task', auctionWindowMs: 300 });
    const exploding = await postTask({ description: 'please EXPLODE now', auctionWindowMs: 300 });
    const failed = await waitForStatus(exploding.id, 'failed', 20_000);
    expect(failed.assignedAgentId).toBe(agent.id);
    expect(failed.failureReason).toBe(`exit code 3: kaboom: ${exploding.id}`);
    const quiet = await waitForValue(async () => {
      const x = await getTask(ignored.id);
      return x.status !== 'bidding' ? x : null;
    });
    expect(quiet.bids).toEqual([]);
    expect((await taskEvents(exploding.id)).map((e) => e.type)).toContain('tool.failed');
    // a command past --timeout-ms is killed (with its children) and the task fails
    const hanging = await postTask({ description: 'please hang forever', auctionWindowMs: 300 });
    const timedOut = await waitForStatus(hanging.id, 'failed', 20_000);
    expect(timedOut.assignedAgentId).toBe(agent.id);
    expect(timedOut.failureReason).toMatch(/^timed out after 500 ms/);
    const hangEvents = await taskEvents(hanging.id);
    expect(hangEvents.find((e) => e.type === 'tool.failed')?.data).toMatchObject({ tool: 'exec', timedOut: true });
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
    expect(again.stderr()).not.toMatch(/mck_/);
  });

  it('a socket killed mid-way misses no assignment or offer (resubscribe with since, de-duplicated)', async () => {
    const { agent, key } = await enroll('sdk-flaky');
    const client = newClient(key);
    const assignedCalls: string[] = [];
    const offered: string[] = [];
    let dropAfterBid = true;
    client.onTaskOffer(async (offer) => {
      offered.push(offer.taskId);
      await client.bid(offer.taskId, 11);
      if (dropAfterBid) {
        dropAfterBid = false;
        client.socket!.disconnect();
      }
    });
    client.onAssigned(async (task) => {
      assignedCalls.push(task.id);
      await client.start(task.id);
      await client.complete(task.id, `ok ${task.description}`);
    });
    await client.join();

    // A: we bid, the socket drops, and the auction closes (task.assigned) while we are offline.
    const a = await postTask({ description: 'task A', auctionWindowMs: 300 });
    const assignedA = await waitForStatus(a.id, 'assigned');
    expect(assignedA.assignedAgentId).toBe(agent.id);
    expect(client.socket!.connected).toBe(false);
    // B: assigned directly while offline. D: an auction opened while offline, still open at reconnect.
    const b = await postTask({ description: 'task B', agentId: agent.id });
    const d = await postTask({ description: 'task D', auctionWindowMs: 2500 });
    await new Promise((r) => setTimeout(r, 200));
    expect(assignedCalls).toEqual([]);

    client.socket!.connect();
    for (const id of [a.id, b.id, d.id]) {
      const done = await waitForStatus(id, 'completed', 20_000);
      expect(done.assignedAgentId).toBe(agent.id);
    }
    expect((await getTask(b.id)).result).toBe('ok task B');
    // a second drop/reconnect replays nothing new and never re-handles a task
    client.socket!.disconnect();
    client.socket!.connect();
    await waitFor(() => client.socket!.connected, 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect([...assignedCalls].sort()).toEqual([a.id, b.id, d.id].sort());
    expect([...offered].sort()).toEqual([a.id, d.id].sort());
  });

  it('delivers messages to the recipient once and resolves ask() with the operator answer', async () => {
    const alice = await enroll('sdk-alice');
    const bob = await enroll('sdk-bob');
    const a = newClient(alice.key);
    const b = new AgentClient({ baseUrl: t.url, apiKey: bob.key, heartbeatIntervalMs: 0, questionPollIntervalMs: 60_000 });
    clients.push(b);
    const inbox: string[] = [];
    b.onMessage((m) => {
      expect(m).toMatchObject({ fromAgentId: alice.agent.id, toAgentId: bob.agent.id });
      inbox.push(m.body);
    });
    await a.join();
    await b.join();

    const sent = await a.sendMessage(bob.agent.id, 'hello bob');
    expect(sent).toMatchObject({ toAgentId: bob.agent.id, status: 'sent' });
    await a.sendMessage(bob.agent.id, 'second');
    await waitFor(() => inbox.length === 2, 10_000);
    expect(inbox).toEqual(['hello bob', 'second']);
    const delivered = await waitForValue(async () => {
      const res = await request(t.url).get(`/api/messages?agentId=${bob.agent.id}&status=delivered`).set(auth(t.adminKey)).expect(200);
      return res.body.items.length === 2 ? res.body.items : null;
    });
    expect(delivered.every((m: { deliveredAt: string | null }) => m.deliveredAt !== null)).toBe(true);
    await expect(a.sendMessage('no-such-agent', 'x')).rejects.toMatchObject({ statusCode: 404 });

    // ask(): the answer arrives as question.answered on the agent channel (polling is set to 60 s, so only the event can resolve it)
    const answer = b.ask({ question: 'Which network?', options: ['mainnet', 'testnet'] });
    const q = await waitForValue(async () => {
      const res = await request(t.url).get('/api/questions?status=open').set(auth(t.adminKey)).expect(200);
      return res.body.items.find((x: { agentId: string }) => x.agentId === bob.agent.id) as { id: string } | undefined;
    });
    await request(t.url).post(`/api/questions/${q.id}/answer`).set(auth(t.adminKey)).send({ answer: ['testnet'] }).expect(200);
    await expect(answer).resolves.toEqual(['testnet']);

    const cancelled = b.ask({ question: 'Proceed?', options: ['yes', 'no'] });
    const q2 = await waitForValue(async () => {
      const res = await request(t.url).get('/api/questions?status=open').set(auth(t.adminKey)).expect(200);
      return res.body.items.find((x: { agentId: string }) => x.agentId === bob.agent.id) as { id: string } | undefined;
    });
    await request(t.url).post(`/api/questions/${q2.id}/cancel`).set(auth(t.adminKey)).send({}).expect(200);
    await expect(cancelled).rejects.toMatchObject({ code: 'sdk/question_cancelled' });
    const expiring = b.ask({ question: 'Quick?', options: ['yes', 'no'], deadline: new Date(Date.now() + 600).toISOString() });
    await expect(expiring).rejects.toMatchObject({ code: 'sdk/question_expired' });
    await expect(b.ask({ question: 'bad', options: [] })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('a reconnect too far behind gets gap: open auctions and assigned tasks are re-read and synthesized', async () => {
    const { agent, key } = await enroll('sdk-gap');
    const logs: string[] = [];
    const client = newClient(key, logs);
    const offered: string[] = [];
    const assignedCalls: string[] = [];
    client.onTaskOffer(async (offer) => {
      offered.push(offer.taskId);
      await client.bid(offer.taskId, 3);
    });
    client.onAssigned(async (task) => {
      assignedCalls.push(task.id);
      await client.complete(task.id, `gap ok ${task.description}`);
    });
    await client.join();
    client.socket!.disconnect();

    // > REPLAY_MAX_EVENTS (100) swarm events while away: 40 tasks created + bidding + cancelled = 120
    for (let i = 0; i < 40; i++) {
      const filler = await postTask({ description: `filler ${i}`, auctionWindowMs: 60_000 });
      await request(t.url).post(`/api/tasks/${filler.id}/cancel`).set(auth(t.adminKey)).send({ reason: 'filler' }).expect(200);
    }
    const direct = await postTask({ description: 'direct while away', agentId: agent.id });
    const open = await postTask({ description: 'open while away', auctionWindowMs: 2500 });

    client.socket!.connect();
    const doneOpen = await waitForStatus(open.id, 'completed', 20_000);
    const doneDirect = await waitForStatus(direct.id, 'completed', 20_000);
    expect(doneOpen).toMatchObject({ assignedAgentId: agent.id, result: 'gap ok open while away', winningBidSats: 3 });
    expect(doneDirect.result).toBe('gap ok direct while away');
    expect(logs.some((l) => /^gap on swarm/.test(l))).toBe(true);
    expect(offered).toEqual([open.id]);
    expect([...assignedCalls].sort()).toEqual([open.id, direct.id].sort());
  });
});
