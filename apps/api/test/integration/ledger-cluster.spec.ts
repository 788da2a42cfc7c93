import type { EventEnvelope, EventPage } from '@app/contracts';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { ledgerViolations } from '../support/ledger-invariants';
import { Collector, connectLive, subscribe, type LiveSocket } from '../support/live-client';
import { ensureBuilt, kill9, startServer, stop, type Server } from '../support/server-process';
import { describeWithRedis, TEST_REDIS_URL } from '../support/services';
import { sleep } from '../support/swarm-helpers';
import { ADMIN_PASSWORD, createKeyWithPassword, createPgDatabase, waitFor } from '../support/test-app';

type Res = { status: number; body: Record<string, unknown> };
async function api(s: Server, key: string, method: string, path: string, body?: unknown): Promise<Res> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * The ledger on three API instances sharing one PostgreSQL and Redis (BRIEF sections 4-5; issue 8 "a 3-instance
 * test"): work that must happen once happens once, whichever instance a request lands on.
 * - invoices created on one instance and settled through the other two at the same moment: one `invoice.received`
 *   each, the treasury credited once;
 * - one bolt11 paid through all three instances at once (same idempotency key, then fresh keys): one outgoing
 *   transaction, one `payment.sent`, the other calls replay it or are refused `already paid`;
 * - task payouts with auctions on one instance, bids and completions through the others: one hold per task, posted
 *   once; an instance killed with -9 while its payment is in flight: a survivor tracks it to its end, once;
 * - invariants straight from the tables (sum 0, totals = transfers, nothing negative, no hash paid twice) and a
 *   `ledger` subscriber on each instance sees the same events in seq order, each once.
 */
describeWithRedis('ledger across three instances (PostgreSQL + Redis)', () => {
  let pg: { url: string; drop(): Promise<void> };
  let db: Client;
  const servers: Server[] = [];
  const keys: string[] = [];
  const sockets: LiveSocket[] = [];
  const collectors: Collector[] = [];

  const env = (name: string) => ({
    DATABASE_URL: pg.url,
    REDIS_URL: TEST_REDIS_URL,
    INSTANCE_NAME: name,
    LEDGER_TASK_PAYOUTS: 'on',
    LEDGER_SWEEP_MS: '500',
    CONSUMER_POLL_MS: '100',
  });

  beforeAll(async () => {
    ensureBuilt();
    pg = await createPgDatabase();
    for (let i = 0; i < 3; i++) {
      const s = await startServer(env(`ledger-${i}`));
      servers.push(s);
      keys.push(await createKeyWithPassword(s.url, 'admin', ADMIN_PASSWORD, 'admin'));
    }
    db = new Client({ connectionString: pg.url });
    await db.connect();
    for (let i = 0; i < 3; i++) {
      const socket = await connectLive(servers[i].url, keys[i]);
      const c = new Collector().attach(socket);
      expect(await subscribe(socket, 'ledger', 0)).toMatchObject({ ok: true });
      sockets.push(socket);
      collectors.push(c);
    }
  }, 180_000);

  afterAll(async () => {
    // the servers' own account of any 5xx (stack traces), for a failed run
    const errors = servers.flatMap((s) => s.output().split('\n').filter((l) => /ERROR/.test(l)));
    if (errors.length > 0) process.stdout.write(`ledger-cluster: server errors:\n${errors.slice(0, 20).join('\n')}\n`);
    for (const s of sockets) s.close();
    for (const s of servers) await stop(s).catch(() => undefined);
    await db?.end();
    await pg?.drop();
  });

  /** Every event of the `ledger` channel in the log, through the REST list (paged forward). */
  async function ledgerLog(): Promise<EventEnvelope[]> {
    const out: EventEnvelope[] = [];
    let after = 0;
    for (;;) {
      const r = await fetch(`${servers[0].url}/api/events?channel=ledger&after=${after}&limit=500`, { headers: { authorization: `Bearer ${keys[0]}` } });
      expect(r.status).toBe(200);
      const page = (await r.json()) as EventPage;
      out.push(...page.items);
      if (page.items.length === 0 || page.nextCursor === null) break;
      after = Math.max(...page.items.map((e) => e.seq));
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
  const ofType = (events: EventEnvelope[], type: string, hash: string) =>
    events.filter((e) => e.type === type && (e.data as { paymentHash?: string }).paymentHash === hash);
  const violations = () => ledgerViolations({ query: async (sql: string, params?: unknown[]) => (await db.query(sql, params)).rows } as unknown as DataSource);

  it('settles each invoice once, pays each bolt11 once, posts each payout once, and survives kill -9 mid-payment', async () => {
    // 1. invoices created round-robin, each settled through the other two instances at once
    const invoices: string[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await api(servers[i % 3], keys[i % 3], 'POST', '/api/ledger/invoices', { amountMsat: 1_000_000, memo: `top-up ${i}` });
      expect(r.status).toBe(201);
      invoices.push(r.body.paymentHash as string);
    }
    const settles = await Promise.all(
      invoices.flatMap((h, i) => [1, 2].map((d) => api(servers[(i + d) % 3], keys[(i + d) % 3], 'POST', `/api/ledger/dev/invoices/${h}/settle`, {}))),
    );
    for (const r of settles) expect([200, 409]).toContain(r.status);
    const treasury = async () => (await api(servers[1], keys[1], 'GET', '/api/ledger/balances')).body.treasury as Record<string, number>;
    await waitFor(async () => (await treasury()).balanceMsat === 9_000_000, 15_000);

    // 2. one bolt11 paid through all three instances at once with one idempotency key, then with fresh keys
    const payOnce = async (idem: (i: number) => string) => {
      const remote = await api(servers[0], keys[0], 'POST', '/api/ledger/dev/remote-invoices', { amountMsat: 200_000, memo: 'supplier' });
      expect(remote.status).toBe(201);
      const results = await Promise.all(servers.map((s, i) => api(s, keys[i], 'POST', '/api/ledger/payments', { bolt11: remote.body.bolt11, idempotencyKey: idem(i) })));
      return { hash: remote.body.paymentHash as string, results };
    };
    const same = await payOnce(() => 'cluster-pay-1');
    expect(same.results.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(new Set(same.results.map((r) => r.body.id)).size).toBe(1);
    const fresh = await payOnce((i) => `cluster-pay-2-${i}`);
    const ok = fresh.results.filter((r) => r.status === 201 || r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of fresh.results.filter((x) => x !== ok[0])) expect(r.status).toBe(409);

    // 3. task payouts: auctions on instance 0, bids through 1, completions through 2
    const agents: { id: string; key: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await api(servers[i], keys[i], 'POST', '/api/agents', { name: `cluster-earner-${i}` });
      expect(r.status).toBe(201);
      const agent = { id: (r.body.agent as { id: string }).id, key: r.body.key as string };
      expect((await api(servers[2 - i], agent.key, 'POST', '/api/agents/me/join', {})).status).toBe(200);
      agents.push(agent);
    }
    const tasks: { id: string; agent: { id: string; key: string }; sats: number }[] = [];
    for (let i = 0; i < 6; i++) {
      const t = await api(servers[0], keys[0], 'POST', '/api/tasks', { description: `cluster payout ${i}`, auctionWindowMs: 1000 });
      expect(t.status).toBe(201);
      const agent = agents[i % 2];
      const sats = 100 + i;
      expect((await api(servers[1], agent.key, 'POST', `/api/tasks/${t.body.id}/bids`, { bidSats: sats })).status).toBe(201);
      tasks.push({ id: t.body.id as string, agent, sats });
    }
    for (const t of tasks) await waitFor(async () => (await api(servers[2], keys[2], 'GET', `/api/tasks/${t.id}`)).body.status === 'assigned', 15_000);
    for (const t of tasks) expect((await api(servers[2], t.agent.key, 'POST', `/api/tasks/${t.id}/complete`, { result: 'done' })).status).toBe(200);

    // 4. a payment in flight on instance 1 when it is killed: a survivor tracks it to its end, once
    const stuck = await api(servers[0], keys[0], 'POST', '/api/ledger/dev/remote-invoices', { amountMsat: 300_000, memo: 'slow route', outcome: 'in_flight' });
    const inFlight = await api(servers[1], keys[1], 'POST', '/api/ledger/payments', { bolt11: stuck.body.bolt11, idempotencyKey: 'cluster-stuck' });
    expect([200, 201, 202]).toContain(inFlight.status);
    expect(inFlight.body.status).toBe('pending');
    await kill9(servers[1]);
    expect((await api(servers[0], keys[0], 'POST', `/api/ledger/dev/payments/${stuck.body.paymentHash}/resolve`, { outcome: 'succeed', feeMsat: 12 })).status).toBe(200);
    await waitFor(async () => (await api(servers[2], keys[2], 'GET', `/api/ledger/payments/${stuck.body.paymentHash}`)).body.status === 'settled', 15_000);
    servers[1] = await startServer(env('ledger-1'));
    await sleep(1500); // several ledger sweeps and consumer polls on every instance: a second outcome would show now

    const log = await ledgerLog();
    for (const h of invoices) expect(ofType(log, 'invoice.settled', h)).toHaveLength(1);
    for (const h of [same.hash, fresh.hash, stuck.body.paymentHash as string]) expect(ofType(log, 'payment.sent', h)).toHaveLength(1);
    for (const t of tasks) {
      expect(log.filter((e) => e.type === 'hold.created' && e.taskId === t.id)).toHaveLength(1);
      expect(log.filter((e) => e.type === 'hold.posted' && e.taskId === t.id)).toHaveLength(1);
    }
    const { rows } = await db.query(`SELECT "paymentHash", count(*)::int AS n FROM ledger_transactions WHERE type = 'outgoing' GROUP BY "paymentHash"`);
    expect(rows).toHaveLength(3);
    for (const r of rows as { n: number }[]) expect(r.n).toBe(1);
    const earned = (a: { id: string }) => tasks.filter((t) => t.agent === a).reduce((n, t) => n + t.sats * 1000, 0);
    for (const a of agents) {
      const acct = (await api(servers[2], keys[2], 'GET', `/api/ledger/accounts`)).body as unknown as { id: string; balanceMsat: number }[];
      expect(acct.find((x) => x.id === `agent:${a.id}`)?.balanceMsat).toBe(earned(a));
    }
    // 9 top-ups - 2 payments of 200,000 - 300,000 + 12 fee - payouts; no fee on the mock's immediate payments
    const payouts = tasks.reduce((n, t) => n + t.sats * 1000, 0);
    expect((await treasury()).balanceMsat).toBe(9_000_000 - 400_000 - 300_012 - payouts);
    expect(await violations()).toEqual([]);

    // every subscriber saw the ledger channel in seq order, each event once; the live ones (0 and 2) saw all of it
    for (const i of [0, 2]) {
      const seqs = collectors[i].seqs('ledger');
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      await waitFor(() => collectors[i].seqs('ledger').length >= log.length, 10_000);
      expect(collectors[i].seqs('ledger')).toEqual(log.map((e) => e.seq));
    }
  }, 240_000);
});
