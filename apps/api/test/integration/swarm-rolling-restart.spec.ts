import type { EventEnvelope } from '@app/contracts';
import { connectLive, subscribe, type LiveSocket } from '../support/live-client';
import { ensureBuilt, kill9, startServer, stop, type Server } from '../support/server-process';
import { describeWithRedis, TEST_REDIS_URL } from '../support/services';
import { ADMIN_PASSWORD, createKeyWithPassword, createPgDatabase, waitFor } from '../support/test-app';

/**
 * Issue 11 section 1, "rolling restart": three API processes on one PostgreSQL and Redis serve a swarm of external
 * agents (auctions, bids, start, complete) and socket.io subscribers on every instance, while each instance is
 * restarted in turn (SIGTERM, start again) and then one is killed with SIGKILL during a burst and started again.
 * Asserts: every subscriber sees every event exactly once in seq order across its reconnects (0 missing, 0
 * duplicate, 0 out of order), one `auction.closed` per task, every task completed once, and no restart touched work
 * whose owner was alive (no "server restarted" task failure or agent offline; recoveries ran as `join`).
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithRedis('rolling restart and kill -9 of three instances (PostgreSQL + Redis)', () => {
  let pg: { url: string; drop(): Promise<void> };
  const servers: (Server | null)[] = [null, null, null];
  const env = (): Record<string, string> => ({
    DATABASE_URL: pg.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `mc-rolling-${process.pid}-${Date.now()}`,
    INSTANCE_HEARTBEAT_MS: '500',
    INSTANCE_LEASE_MS: '3000',
    LOG_LEVEL: 'error',
    REALTIME_HANDSHAKES_PER_IP: '0',
  });
  let serverEnv: Record<string, string>;

  beforeAll(async () => {
    ensureBuilt();
    pg = await createPgDatabase();
    serverEnv = env();
    // the first boot runs the migrations; the other two then join it
    servers[0] = await startServer(serverEnv);
    [servers[1], servers[2]] = await Promise.all([startServer(serverEnv), startServer(serverEnv)]);
  }, 180_000);
  afterAll(async () => {
    for (const s of servers) if (s) await stop(s);
    await pg?.drop();
  });

  /** URLs of the instances that are up now. */
  const live = (): string[] => servers.filter((s): s is Server => !!s && s.proc.exitCode === null && s.proc.signalCode === null).map((s) => s.url);

  /**
   * One HTTP call, retried on the next live instance while the one tried is down (connection refused/reset); returns
   * the first HTTP response. A POST whose connection broke may have been applied: callers treat a 409 as "done".
   */
  async function call(key: string, method: string, path: string, body?: unknown, start = 0): Promise<{ status: number; body: any }> {
    let last: unknown;
    for (let attempt = 0; attempt < 60; attempt++) {
      const urls = live();
      if (urls.length === 0) {
        await sleep(100);
        continue;
      }
      const url = urls[(start + attempt) % urls.length];
      try {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (res.status === 503) throw new Error('503 (instance shutting down)');
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : null };
      } catch (err) {
        last = err;
        await sleep(50);
      }
    }
    throw new Error(`${method} ${path} failed on every instance: ${String(last)}`);
  }

  /** A subscriber of `all` that follows the protocol, moving to another instance when its instance goes away. */
  class Subscriber {
    lastSeq = 0;
    readonly seqs: number[] = [];
    outOfOrder = 0;
    moves = 0;
    private socket: LiveSocket | null = null;
    private closed = false;

    constructor(
      private readonly key: string,
      private home: number,
    ) {}

    async connect(): Promise<void> {
      for (let attempt = 0; !this.closed; attempt++) {
        const urls = live();
        const url = urls[(this.home + attempt) % Math.max(1, urls.length)];
        try {
          if (!url) throw new Error('no instance up');
          const s = await connectLive(url, this.key);
          s.on('events', (events: EventEnvelope[]) => {
            for (const e of events) {
              if (e.seq <= this.lastSeq) {
                this.outOfOrder++;
                continue;
              }
              this.lastSeq = e.seq;
              this.seqs.push(e.seq);
            }
          });
          s.on('gap', () => void subscribe(s, 'all', this.lastSeq).catch(() => undefined));
          s.once('disconnect', () => {
            if (this.closed) return;
            this.moves++;
            this.home++;
            void this.connect();
          });
          const ack = await subscribe(s, 'all', this.lastSeq);
          if (!ack.ok || ack.gap) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
          this.socket = s;
          return;
        } catch {
          await sleep(100);
        }
      }
    }

    close(): void {
      this.closed = true;
      this.socket?.close();
    }
  }

  it('every subscriber gets every event once in order, one auction close per task, no live owner loses work', async () => {
    const admin = await createKeyWithPassword(servers[0]!.url, 'admin', ADMIN_PASSWORD, 'admin');
    const from = (await call(admin, 'GET', '/api/events?limit=1')).body.headSeq as number;

    // three external agents that heartbeat through the instances in turn
    const agents: { id: string; key: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(admin, 'POST', '/api/agents', { name: `rolling-${i}`, capabilities: ['general'] });
      expect(res.status).toBe(201);
      const a = { id: res.body.agent.id as string, key: res.body.key as string };
      expect((await call(a.key, 'POST', '/api/agents/me/join', {})).status).toBe(200);
      agents.push(a);
    }
    let running = true;
    const beats = agents.map(async (a, i) => {
      for (let n = 0; running; n++) {
        await call(a.key, 'POST', '/api/agents/me/heartbeat', undefined, i + n).catch(() => undefined);
        await sleep(1000);
      }
    });

    const subs: Subscriber[] = [];
    for (let i = 0; i < 6; i++) {
      const s = new Subscriber(admin, i % 3);
      subs.push(s);
      s.lastSeq = from;
      await s.connect();
    }

    // the workload: tasks auctioned for 2 s (bids may be retried on another instance during a restart), every agent bids, the winner starts and completes
    const tasks: string[] = [];
    const problems: string[] = [];
    const pipeline = async (lane: number) => {
      for (let n = 0; running; n++) {
        const created = await call(admin, 'POST', '/api/tasks', { description: `rolling job ${lane}-${n}`, auctionWindowMs: 2000 }, lane + n);
        if (created.status !== 201) {
          problems.push(`create ${created.status} ${JSON.stringify(created.body)}`);
          continue;
        }
        const id = created.body.id as string;
        tasks.push(id);
        await Promise.all(
          agents.map(async (a, i) => {
            const r = await call(a.key, 'POST', `/api/tasks/${id}/bids`, { bidSats: 10 + i * 5 + (n % 7) }, lane + i);
            if (r.status !== 201 && r.status !== 409) problems.push(`bid ${r.status} ${JSON.stringify(r.body)}`);
          }),
        );
        const assigned = await waitFor(async () => {
          const t = (await call(admin, 'GET', `/api/tasks/${id}`, undefined, lane)).body;
          return t.status !== 'bidding' && t.status !== 'pending' ? t : null;
        }, 20_000, 50);
        const agent = agents.find((a) => a.id === assigned.assignedAgentId);
        if (!agent) {
          problems.push(`task ${id} ended ${assigned.status} (${assigned.failureReason}) without an agent`);
          continue;
        }
        const started = await call(agent.key, 'POST', `/api/tasks/${id}/start`, undefined, lane + 1);
        if (started.status !== 200 && started.status !== 409) problems.push(`start ${started.status} ${JSON.stringify(started.body)}`);
        const done = await call(agent.key, 'POST', `/api/tasks/${id}/complete`, { result: `done ${id}` }, lane + 2);
        if (done.status !== 200 && done.status !== 409) problems.push(`complete ${done.status} ${JSON.stringify(done.body)}`);
      }
    };
    const lanes = [0, 1, 2, 3].map((l) => pipeline(l));

    // rolling restart: each instance in turn stops (SIGTERM) and starts again while the others serve
    await sleep(3000);
    for (let i = 0; i < 3; i++) {
      await stop(servers[i]!);
      servers[i] = await startServer(serverEnv);
      await sleep(2500);
    }
    // kill -9 of one instance during a burst of agent tool events, then it starts again
    const burst = Array.from({ length: 300 }, (_, k) =>
      call(agents[k % 3].key, 'POST', '/api/events', { type: 'tool.called', data: { tool: 'burst', k } }, k).then((r) => {
        if (r.status !== 201) problems.push(`burst ${r.status} ${JSON.stringify(r.body)}`);
        return r.status === 201 ? (r.body.seq as number) : null;
      }),
    );
    await sleep(150);
    await kill9(servers[1]!);
    servers[1] = null;
    const acknowledged = (await Promise.all(burst)).filter((s): s is number => s !== null);
    servers[1] = await startServer(serverEnv);
    await sleep(3000);
    running = false;
    await Promise.all([...lanes, ...beats]);

    // the log as it is now: every event an admin sees after `from`
    const all: EventEnvelope[] = [];
    for (let after = from; ; ) {
      const page = (await call(admin, 'GET', `/api/events?after=${after}&limit=1000`)).body;
      all.push(...(page.items as EventEnvelope[]));
      if (page.nextCursor === null) break;
      after = page.nextCursor;
    }
    const head = all[all.length - 1].seq;
    await waitFor(() => subs.every((s) => s.lastSeq >= head), 30_000);
    for (const s of subs) s.close();

    const expected = all.map((e) => e.seq);
    const seen = new Set(all.map((e) => e.seq));
    for (const a of acknowledged) expect(seen.has(a)).toBe(true);
    for (const s of subs) {
      expect(s.outOfOrder).toBe(0);
      expect(new Set(s.seqs).size).toBe(s.seqs.length);
      expect(s.seqs.filter((q) => q <= head)).toEqual(expected);
    }
    expect(subs.reduce((n, s) => n + s.moves, 0)).toBeGreaterThanOrEqual(6); // the restarts did move them

    expect(problems).toEqual([]);
    expect(tasks.length).toBeGreaterThan(10);
    const byTask = new Map<string, string[]>();
    for (const e of all) if (e.taskId) byTask.set(e.taskId, [...(byTask.get(e.taskId) ?? []), e.type]);
    for (const id of tasks) {
      const types = byTask.get(id) ?? [];
      expect({ id, closes: types.filter((t) => t === 'auction.closed').length }).toEqual({ id, closes: 1 });
      expect({ id, completed: types.filter((t) => t === 'task.completed').length, failed: types.filter((t) => t === 'task.failed').length }).toEqual({ id, completed: 1, failed: 0 });
    }
    const offline = all.filter((e) => e.type === 'agent.status_changed' && (e.data as { to?: string }).to === 'offline');
    expect(offline).toEqual([]);
    const recoveries = all.filter((e) => e.type === 'system.info' && (e.data as { message?: string }).message === 'swarm recovered after start');
    expect(recoveries.map((e) => (e.data as { mode: string }).mode)).toEqual(['join', 'join', 'join', 'join']);
    for (const r of recoveries) expect((r.data as { recovered: Record<string, number> }).recovered).toMatchObject({ tasksFailed: 0, agentsOfflined: 0 });
    process.stdout.write(
      `rolling-restart: ${JSON.stringify({ events: all.length, tasks: tasks.length, burstAcked: acknowledged.length, moves: subs.map((s) => s.moves) })}\n`,
    );
  }, 300_000);
});
