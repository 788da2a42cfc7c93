import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ENTITIES } from '../../src/database/data-source';
import { ledgerViolations } from '../support/ledger-invariants';
import { ensureBuilt, kill9, startServer, stop, type Server } from '../support/server-process';
import { ADMIN_PASSWORD, createKeyWithPassword, createPgDatabase, databaseKinds, waitFor } from '../support/test-app';

/**
 * Issue 8 section 3/5: kill -9 of the server (the built product in its own process) while payments are in flight.
 * After the restart every pending payment is tracked to its end on the node, nothing is paid twice (one node payment
 * per payment_hash, one outgoing row per payment_hash, ledger and node agree on every outcome), a payment that was
 * in flight on the node stays held until the node finishes it, and the ledger invariants hold.
 */
describe.each(databaseKinds())('ledger: kill -9 during in-flight payments (%s)', (db) => {
  let dir: string;
  let env: Record<string, string>;
  let dropPg: (() => Promise<void>) | null = null;
  const servers: Server[] = [];

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'mc-ledger-crash-'));
    if (db === 'postgres') {
      const pg = await createPgDatabase();
      dropPg = pg.drop;
      env = { DATABASE_URL: pg.url };
    } else {
      env = { SQLITE_PATH: join(dir, 'ledger.db') };
    }
    Object.assign(env, { LEDGER_SWEEP_MS: '300', LEDGER_PAY_WAIT_MS: '2000' });
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await kill9(s);
    await dropPg?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tracks every payment to its end after the restart and never pays twice', async () => {
    const s1 = await startServer(env);
    servers.push(s1);
    const key = await createKeyWithPassword(s1.url, 'admin', ADMIN_PASSWORD, 'admin');
    const call = async (url: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    // fund the treasury
    const inv = await call(s1.url, '/api/ledger/invoices', { amountMsat: 500_000_000 });
    expect(inv.status).toBe(201);
    expect((await call(s1.url, `/api/ledger/dev/invoices/${inv.body.paymentHash as string}/settle`, {})).status).toBe(200);

    // one payment the node keeps in flight across the crash
    const stuck = await call(s1.url, '/api/ledger/dev/remote-invoices', { amountMsat: 1_000_000, outcome: 'in_flight' });
    const stuckPay = await call(s1.url, '/api/ledger/payments', { bolt11: stuck.body.bolt11, maxFeeMsat: 10_000 });
    expect(stuckPay.body.status).toBe('pending');

    // a burst of payments, killed mid-way
    const remotes: { bolt11: string; paymentHash: string }[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await call(s1.url, '/api/ledger/dev/remote-invoices', { amountMsat: 100_000 + i, outcome: 'succeed', feeMsat: 50 + i });
      remotes.push(r.body as { bolt11: string; paymentHash: string });
    }
    let answered = 0;
    // staggered (one every 10 ms) so the kill lands mid-burst: sent all at once, the group commit can answer all 40
    // in one tick before the kill (seen on a loaded CI machine)
    const burst = remotes.map((r, i) =>
      new Promise((res) => setTimeout(res, i * 10))
        .then(() => call(s1.url, '/api/ledger/payments', { bolt11: r.bolt11, maxFeeMsat: 1000 }))
        .then(() => answered++)
        .catch(() => undefined),
    );
    const t0 = Date.now();
    while (answered < 5 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 2));
    await kill9(s1);
    await Promise.all(burst);
    expect(answered).toBeLessThan(remotes.length);

    const s2 = await startServer(env);
    servers.push(s2);
    // the sweep tracks every pending payment on the node; only the one the node still has in flight stays pending
    await waitFor(async () => {
      const page = await call(s2.url, '/api/ledger/transactions?type=outgoing&status=pending&limit=500');
      const items = page.body.items as { paymentHash: string }[];
      return items.length === 1 && items[0].paymentHash === stuck.body.paymentHash;
    }, 30_000, 100);
    const held = (await call(s2.url, '/api/ledger/balances')).body.treasury as { debitsPendingMsat: number };
    expect(held.debitsPendingMsat).toBe(1_010_000);
    const done = await call(s2.url, `/api/ledger/dev/payments/${stuck.body.paymentHash as string}/resolve`, { outcome: 'succeed', feeMsat: 700 });
    expect(done.body).toMatchObject({ status: 'settled', feeMsat: 700 });

    // paying again: settled ones are refused; one that never reached the node may be paid (once)
    for (const r of remotes) {
      const again = await call(s2.url, '/api/ledger/payments', { bolt11: r.bolt11, maxFeeMsat: 1000 });
      expect([201, 409]).toContain(again.status);
      if (again.status === 409) expect(again.body.code).toBe('ledger/already_paid');
      else expect(again.body.status).toBe('settled');
    }
    await stop(s2);

    const ds = await new DataSource(
      db === 'postgres'
        ? { type: 'postgres', url: env.DATABASE_URL, entities: ENTITIES }
        : { type: 'better-sqlite3', database: env.SQLITE_PATH, entities: ENTITIES },
    ).initialize();
    try {
      expect(await ledgerViolations(ds)).toEqual([]);
      const ledgerRows: { paymentHash: string; status: string; amountMsat: unknown; feeMsat: unknown }[] = await ds.query(
        `SELECT "paymentHash", status, "amountMsat", "feeMsat" FROM ledger_transactions WHERE type = 'outgoing'`,
      );
      const nodeRows: { paymentHash: string; status: string; amountMsat: unknown; feeMsat: unknown }[] = await ds.query(
        'SELECT "paymentHash", status, "amountMsat", "feeMsat" FROM ledger_mock_payments',
      );
      const node = new Map(nodeRows.map((p) => [p.paymentHash, p]));
      expect(ledgerRows.length).toBe(remotes.length + 1);
      for (const t of ledgerRows) {
        const p = node.get(t.paymentHash);
        // every settled payment was made exactly once by the node, with the same amount and fee
        if (t.status === 'settled') expect([t.paymentHash, p?.status, Number(p?.amountMsat), Number(p?.feeMsat)]).toEqual([t.paymentHash, 'succeeded', Number(t.amountMsat), Number(t.feeMsat)]);
        // a failed payment never succeeded on the node
        else expect([t.paymentHash, t.status, p?.status === 'succeeded']).toEqual([t.paymentHash, 'failed', false]);
      }
      for (const p of nodeRows) if (p.status === 'succeeded') expect(ledgerRows.find((t) => t.paymentHash === p.paymentHash)?.status).toBe('settled');
      const treasury: { debitsPosted: unknown }[] = await ds.query(`SELECT "debitsPosted" FROM ledger_accounts WHERE id = 'treasury'`);
      const spent = nodeRows.filter((p) => p.status === 'succeeded').reduce((s, p) => s + Number(p.amountMsat) + Number(p.feeMsat), 0);
      expect(Number(treasury[0].debitsPosted)).toBe(spent);
    } finally {
      await ds.destroy();
    }
  }, 180_000);
});
