import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { DeadlineScheduler } from '../../src/common/scheduling/deadline-scheduler';
import { INVOICE_EXPIRY } from '../../src/ledger/ledger.service';
import { eventLog } from '../support/event-log';
import { ledgerViolations } from '../support/ledger-invariants';
import { sleep } from '../support/swarm-helpers';
import { createPgDatabase, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * Invoice expiry on the deadline scheduler (issue 8 section 3, "expired by the deadline scheduler when unpaid"):
 * creating an invoice arms an `invoice.expiry` deadline; after a restart the deadline is re-read from the database
 * and the invoice expires exactly once (one `invoice.expired`, hold voided). The ledger's own sweep is pushed out of
 * the way (LEDGER_SWEEP_MS = 10 min) so the scheduler is what expires it. On PostgreSQL two instances arm the same
 * deadline and it still fires once.
 *
 * The API refuses expiries under 60 s, so an invoice is created with 60 s and, while the server is down, both the
 * node's and the ledger's expiry are moved a few seconds ahead (time passing while no instance runs).
 */
const SHORT_MS = 4000;

describe.each(databaseKinds())('invoice expiry across a restart (%s)', (db) => {
  let dir: string;
  let pg: { url: string; drop(): Promise<void> } | null = null;
  let t: TestApp | null = null;
  const extra: TestApp[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mc-ledger-expiry-'));
    if (db === 'postgres') pg = await createPgDatabase();
  });
  afterEach(async () => {
    for (const a of extra.splice(0)) await a.close().catch(() => undefined);
    await t?.close();
    t = null;
  });
  afterAll(async () => {
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const overrides = () => ({
    ...(pg ? { DATABASE_URL: pg.url } : { SQLITE_PATH: join(dir, 'ledger-expiry.db') }),
    LEDGER_SWEEP_MS: 600_000,
    DEADLINE_SWEEP_MS: 200,
    SPAWN_PERSONAS: '',
  });
  const p = (i: number) => (db === 'postgres' ? `$${i}` : '?');
  const auth = (app: TestApp) => ({ authorization: `Bearer ${app.adminKey}` });

  /** Moves the invoice's expiry (node and ledger) to `at`, as if time had passed. */
  const setExpiry = async (ds: DataSource, hash: string, at: Date) => {
    await ds.query(`UPDATE ledger_mock_invoices SET "expiresAt" = ${p(1)} WHERE "paymentHash" = ${p(2)}`, [at.toISOString(), hash]);
    await ds.query(`UPDATE ledger_transactions SET "expiresAt" = ${p(1)} WHERE "paymentHash" = ${p(2)}`, [at.toISOString(), hash]);
  };
  const expiredEvents = async (app: TestApp, hash: string) =>
    (await eventLog(app.app).find({ types: ['invoice.expired'] }, 1000)).filter((e) => e.data.paymentHash === hash);

  it('arms invoice.expiry at creation and, after a restart before the expiry, expires the invoice exactly once', async () => {
    t = await startTestApp(overrides(), db);
    const inv = await request(t.url).post('/api/ledger/invoices').set(auth(t)).send({ amountMsat: 7000, memo: 'expires after restart', expirySeconds: 60 }).expect(201);
    const hash = inv.body.paymentHash as string;
    const deadlines = t.app.get(DeadlineScheduler);
    expect(deadlines.isArmed(INVOICE_EXPIRY, hash)).toBe(true);
    await t.close();

    // while no instance runs, the invoice gets close to its expiry
    t = await startTestApp(overrides(), db);
    await setExpiry(t.app.get(DataSource), hash, new Date(Date.now() + SHORT_MS));
    await t.close();
    t = await startTestApp(overrides(), db);
    const app = t;
    // the restarted instance re-read the deadline from the database; the invoice is still pending
    expect(app.app.get(DeadlineScheduler).isArmed(INVOICE_EXPIRY, hash)).toBe(true);
    expect((await request(app.url).get(`/api/ledger/invoices/${hash}`).set(auth(app)).expect(200)).body.status).toBe('pending');

    await waitFor(async () => (await request(app.url).get(`/api/ledger/invoices/${hash}`).set(auth(app)).expect(200)).body.status === 'expired', 15_000);
    await sleep(800); // several scheduler sweeps: a second expiry would have committed by now
    const events = await expiredEvents(app, hash);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ channel: 'ledger', source: 'ledger', data: { paymentHash: hash, amountMsat: 7000, accountId: 'treasury' } });
    expect(app.app.get(DeadlineScheduler).isArmed(INVOICE_EXPIRY, hash)).toBe(false);
    const treasury = (await request(app.url).get('/api/ledger/balances').set(auth(app)).expect(200)).body.treasury;
    expect(treasury.creditsPendingMsat).toBe(0);
    expect(await ledgerViolations(app.app.get(DataSource))).toEqual([]);
  }, 60_000);

  it('expires at boot an invoice that fell due while no instance ran, once, and a further restart adds nothing', async () => {
    t = await startTestApp(overrides(), db);
    const inv = await request(t.url).post('/api/ledger/invoices').set(auth(t)).send({ amountMsat: 5000, expirySeconds: 60 }).expect(201);
    const hash = inv.body.paymentHash as string;
    await setExpiry(t.app.get(DataSource), hash, new Date(Date.now() - 1000));
    // stop before the timer can see the change (it is armed for +60 s)
    await t.close();

    t = await startTestApp(overrides(), db);
    // resumed during bootstrap: expired before the app answered its first request
    expect((await request(t.url).get(`/api/ledger/invoices/${hash}`).set(auth(t)).expect(200)).body.status).toBe('expired');
    expect(await expiredEvents(t, hash)).toHaveLength(1);
    await t.close();

    t = await startTestApp(overrides(), db);
    await sleep(600);
    expect(await expiredEvents(t, hash)).toHaveLength(1);
    expect(await ledgerViolations(t.app.get(DataSource))).toEqual([]);
  }, 60_000);

  it('a settled invoice is never expired by its deadline', async () => {
    t = await startTestApp(overrides(), db);
    const inv = await request(t.url).post('/api/ledger/invoices').set(auth(t)).send({ amountMsat: 3000, expirySeconds: 60 }).expect(201);
    const hash = inv.body.paymentHash as string;
    await request(t.url).post(`/api/ledger/dev/invoices/${hash}/settle`).set(auth(t)).send({}).expect(200);
    expect(t.app.get(DeadlineScheduler).isArmed(INVOICE_EXPIRY, hash)).toBe(false);
    await setExpiry(t.app.get(DataSource), hash, new Date(Date.now() - 1000));
    await t.app.get(DeadlineScheduler).resume(INVOICE_EXPIRY);
    await sleep(400);
    expect(await expiredEvents(t, hash)).toHaveLength(0);
    expect((await request(t.url).get(`/api/ledger/invoices/${hash}`).set(auth(t)).expect(200)).body.status).toBe('settled');
  }, 60_000);

  if (db === 'postgres') {
    it('two instances arm the same deadline; the invoice expires once', async () => {
      t = await startTestApp(overrides(), db);
      extra.push(await startTestApp(overrides(), db));
      const [a, b] = [t, extra[0]];
      const inv = await request(a.url).post('/api/ledger/invoices').set(auth(a)).send({ amountMsat: 4000, expirySeconds: 60 }).expect(201);
      const hash = inv.body.paymentHash as string;
      await setExpiry(a.app.get(DataSource), hash, new Date(Date.now() + 1500));
      // both instances re-read the deadline (a: its armed timer is moved; b: learns it from the database)
      await a.app.get(DeadlineScheduler).resume(INVOICE_EXPIRY);
      await waitFor(() => b.app.get(DeadlineScheduler).isArmed(INVOICE_EXPIRY, hash), 5000);
      await waitFor(async () => (await expiredEvents(a, hash)).length > 0, 15_000);
      await sleep(800);
      expect(await expiredEvents(b, hash)).toHaveLength(1);
    }, 60_000);
  }
});
