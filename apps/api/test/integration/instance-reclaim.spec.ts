import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '@app/contracts';
import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { ensureBuilt, kill9, startServer, stop, type Server } from '../support/server-process';
import { ADMIN_PASSWORD, createKeyWithPassword, createPgDatabase, waitFor } from '../support/test-app';

/**
 * Issue 11 section 1, instance leases (ADR 0061): a persona's task runs on instance A (its LLM call hangs). Instances
 * B and C boot while A serves: A's running task is not touched. A is killed with SIGKILL: exactly one survivor
 * reclaims it (one `system.info` "instance gone", one `task.failed {recovered: true, instanceId}`), within a few
 * heartbeats, not at the next restart.
 */
describe("instance leases: a gone instance's work is reclaimed once, a live one's never (PostgreSQL)", () => {
  let pg: { url: string; drop(): Promise<void> };
  let ollama: FakeLlmServer;
  let dir: string;
  let env: Record<string, string>;
  const servers: Server[] = [];

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'mc-reclaim-'));
    ollama = await startFake('ollama', 'ollama-local');
    const providers = writeProvidersYaml({
      cascade: fastCascade({ timeout_ms: 120_000, max_retries: 0 }),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    pg = await createPgDatabase();
    env = {
      DATABASE_URL: pg.url,
      SPAWN_PERSONAS: 'echo',
      LLM_PROVIDERS_PATH: providers,
      INSTANCE_HEARTBEAT_MS: '300',
      INSTANCE_LEASE_MS: '2000',
      CONSUMER_POLL_MS: '100',
      LOG_LEVEL: 'error',
    };
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await stop(s);
    await ollama.stop();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots beside a running task leave it alone; after kill -9 one survivor fails it once', async () => {
    const a = await startServer(env);
    servers.push(a);
    const key = await createKeyWithPassword(a.url, 'admin', ADMIN_PASSWORD, 'admin');
    const api = async (url: string, path: string, init: RequestInit = {}) => {
      const res = await fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const events = async (url: string, q: string): Promise<EventEnvelope[]> => (await api(url, `/api/events?after=0&limit=1000&${q}`)).body.items;

    ollama.setFault({ kind: 'hang' });
    const created = await api(a.url, '/api/tasks', { method: 'POST', body: JSON.stringify({ description: 'echo this back', auctionWindowMs: 500 }) });
    expect(created.status).toBe(201);
    const taskId = created.body.id as string;
    await waitFor(async () => ((await api(a.url, `/api/tasks/${taskId}`)).body.status === 'running' ? true : null), 15_000);

    // two more instances boot while A runs the task: they join, the task stays running
    const [b, c] = await Promise.all([startServer(env), startServer(env)]);
    servers.push(b, c);
    await new Promise((r) => setTimeout(r, 1500)); // several heartbeats of every instance
    expect((await api(b.url, `/api/tasks/${taskId}`)).body.status).toBe('running');
    const recoveries = (await events(b.url, 'type=system.info')).filter((e) => (e.data as { message: string }).message === 'swarm recovered after start');
    expect(recoveries.map((e) => (e.data as { mode: string }).mode)).toEqual(['cold', 'join', 'join']);

    const killedAt = Date.now();
    await kill9(a);
    servers.splice(servers.indexOf(a), 1);
    const failed = await waitFor(async () => {
      const t = (await api(b.url, `/api/tasks/${taskId}`)).body;
      return t.status === 'failed' ? t : null;
    }, 15_000, 50);
    const reclaimMs = Date.now() - killedAt;
    expect(failed.failureReason).toBe('server restarted before the task finished');
    await new Promise((r) => setTimeout(r, 1500)); // the other survivor's beats: nothing more happens
    const taskFailed = await events(c.url, `taskId=${taskId}&type=task.failed`);
    expect(taskFailed).toHaveLength(1);
    expect(taskFailed[0].data).toMatchObject({ recovered: true, from: 'running' });
    const gone = (await events(c.url, 'type=system.info')).filter((e) => (e.data as { message: string }).message === 'instance gone: its work was reclaimed');
    expect(gone).toHaveLength(1);
    expect(gone[0].data).toMatchObject({ instanceId: (taskFailed[0].data as { instanceId: string }).instanceId, pid: a.proc.pid, reclaimed: { tasksFailed: 1 } });
    // the persona is free again and the swarm goes on: a new task on a survivor completes
    ollama.setFault(null);
    const next = await api(c.url, '/api/tasks', { method: 'POST', body: JSON.stringify({ description: 'echo again', auctionWindowMs: 2000 }) });
    await waitFor(async () => ((await api(b.url, `/api/tasks/${next.body.id}`)).body.status === 'completed' ? true : null), 30_000).catch(async (err) => {
      console.log('NEXT', JSON.stringify((await events(b.url, `taskId=${next.body.id}`)).map((e) => [e.type, e.data])), JSON.stringify(gone[0].data), JSON.stringify((await api(b.url, '/api/agents/persona-echo')).body));
      throw err;
    });
    process.stdout.write(`instance-reclaim: task failed ${reclaimMs} ms after kill -9 of its instance\n`);
  }, 180_000);
});
