import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { LndRestBackend } from '../../src/ledger/backends/lnd-rest.backend';
import { LedgerService } from '../../src/ledger/ledger.service';
import { FakeLnd, makeCert } from '../../src/bench/support/fake-lnd';
import { ledgerViolations } from '../support/ledger-invariants';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * The LND REST backend (issue 8 section 2) against a fake LND over HTTPS with its certificate pinned: receive through
 * SubscribeInvoices (and resume after a stream cut), payments that succeed with a fee, fail with each failure reason,
 * stay IN_FLIGHT then finish, lose their stream mid-payment, or hit a 500; a hanging node; a wrong macaroon and a
 * wrong certificate refused at start; reconciliation agrees with the node at the end.
 */
describe.each(databaseKinds())('ledger on LND REST (fake LND, %s)', (db) => {
  let fake: FakeLnd;
  let t: TestApp;
  let ds: DataSource;
  let dir: string;
  const auth = () => ({ authorization: `Bearer ${t.adminKey}` });
  const tx = async (hash: string, kind: 'invoices' | 'payments') => (await request(t.url).get(`/api/ledger/${kind}/${hash}`).set(auth())).body;

  beforeAll(async () => {
    fake = new FakeLnd();
    await fake.start();
    dir = mkdtempSync(join(tmpdir(), 'mc-lnd-'));
    writeFileSync(join(dir, 'tls.cert'), fake.tls.cert);
    t = await startTestApp(
      {
        LIGHTNING_BACKEND: 'lnd',
        LND_REST_URL: fake.url,
        LND_TLS_CERT_PATH: join(dir, 'tls.cert'),
        LND_MACAROON_HEX: fake.macaroonHex,
        LND_TIMEOUT_MS: 800,
        // no background sweep: a settle must come through the invoice stream; the test runs the tracker itself
        LEDGER_SWEEP_MS: 3_600_000,
        LEDGER_PAY_WAIT_MS: 400,
      },
      db,
    );
    ds = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => expect(await ledgerViolations(ds)).toEqual([]));

  it('receives: the invoice is LND\'s, the settle arrives on SubscribeInvoices', async () => {
    const inv = await request(t.url).post('/api/ledger/invoices').set(auth()).send({ amountMsat: 50_000_000, memo: 'fund' }).expect(201);
    const dec = await request(t.url).post('/api/ledger/decode').set(auth()).send({ bolt11: inv.body.bolt11 }).expect(200);
    expect(dec.body).toMatchObject({ payee: fake.pubkey, internal: true, amountMsat: 50_000_000 });
    await waitFor(() => fake.subscriberCount > 0);
    fake.settle(inv.body.paymentHash);
    await waitFor(async () => (await tx(inv.body.paymentHash, 'invoices')).status === 'settled');
    expect((await tx(inv.body.paymentHash, 'invoices')).preimage).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not miss a settle made while the invoice stream was cut (resumes from settle_index)', async () => {
    const inv = await request(t.url).post('/api/ledger/invoices').set(auth()).send({ amountMsat: 10_000 }).expect(201);
    fake.cutSubscriptions();
    fake.settle(inv.body.paymentHash);
    await waitFor(async () => (await tx(inv.body.paymentHash, 'invoices')).status === 'settled');
  });

  it('pays: succeeded with a fee, and failed with each LND failure reason', async () => {
    const ok = fake.remoteInvoice(200_000, { outcome: 'SUCCEEDED', feeMsat: 321 });
    const p = await request(t.url).post('/api/ledger/payments').set(auth()).send({ bolt11: ok.bolt11, maxFeeMsat: 1000 }).expect(201);
    expect(p.body).toMatchObject({ status: 'settled', feeMsat: 321 });
    for (const reason of ['FAILURE_REASON_NO_ROUTE', 'FAILURE_REASON_TIMEOUT', 'FAILURE_REASON_INSUFFICIENT_BALANCE', 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS'] as const) {
      const bad = fake.remoteInvoice(1000, { outcome: 'FAILED', reason });
      const r = await request(t.url).post('/api/ledger/payments').set(auth()).send({ bolt11: bad.bolt11 }).expect(201);
      expect(r.body).toMatchObject({ status: 'failed', failureReason: reason });
    }
  });

  it('keeps an IN_FLIGHT payment held for as long as LND says, then applies SUCCEEDED or FAILED', async () => {
    const later = fake.remoteInvoice(30_000, { outcome: 'SUCCEEDED', feeMsat: 10, inFlightMs: 1500 });
    const p = await request(t.url).post('/api/ledger/payments').set(auth()).send({ bolt11: later.bolt11, maxFeeMsat: 100 }).expect(201);
    expect(p.body.status).toBe('pending');
    const held = (await request(t.url).get('/api/ledger/balances').set(auth())).body.treasury;
    expect(held.debitsPendingMsat).toBe(30_100);
    await waitFor(async () => (await tx(later.paymentHash, 'payments')).status === 'settled', 15_000);
    const lost = fake.remoteInvoice(30_000, { outcome: 'FAILED', reason: 'FAILURE_REASON_TIMEOUT', inFlightMs: 1200 });
    expect((await request(t.url).post('/api/ledger/payments').set(auth()).send({ bolt11: lost.bolt11 }).expect(201)).body.status).toBe('pending');
    await waitFor(async () => (await tx(lost.paymentHash, 'payments')).status === 'failed', 15_000);
    expect((await tx(lost.paymentHash, 'payments')).failureReason).toBe('FAILURE_REASON_TIMEOUT');
  });

  it('follows a payment whose SendPaymentV2 stream is cut mid-payment (TrackPaymentV2), sending it once', async () => {
    const cut = fake.remoteInvoice(40_000, { outcome: 'SUCCEEDED', feeMsat: 7, inFlightMs: 600, cutStream: true });
    await request(t.url).post('/api/ledger/payments').set(auth()).send({ bolt11: cut.bolt11, maxFeeMsat: 100 }).expect(201);
    await waitFor(async () => (await tx(cut.paymentHash, 'payments')).status === 'settled', 15_000);
    expect(fake.sendCalls.get(cut.paymentHash)).toBe(1);
    // paying it again is refused by the ledger before LND is asked
    await request(t.url).post('/api/ledger/payments').set(auth()).send({ bolt11: cut.bolt11 }).expect(409);
    expect(fake.sendCalls.get(cut.paymentHash)).toBe(1);
  });

  it('a 500 on SendPaymentV2 keeps the hold until the sweep learns LND never initiated it; a hanging node is a 503', async () => {
    fake.fail500.add('POST /v2/router/send');
    const inv = fake.remoteInvoice(25_000, { outcome: 'SUCCEEDED' });
    const p = await request(t.url).post('/api/ledger/payments').set(auth()).send({ bolt11: inv.bolt11 }).expect(201);
    expect(p.body.status).toBe('pending');
    fake.fail500.delete('POST /v2/router/send');
    await t.app.get(LedgerService).trackPendingPayments();
    await waitFor(async () => (await tx(inv.paymentHash, 'payments')).status === 'failed', 15_000);
    expect((await tx(inv.paymentHash, 'payments')).failureReason).toBe('never reached the node');
    expect(fake.payment(inv.paymentHash)).toBeUndefined();

    fake.hang.add('POST /v1/invoices');
    const before = Number((await ds.query('SELECT COUNT(*) AS n FROM ledger_transactions'))[0].n);
    const r = await request(t.url).post('/api/ledger/invoices').set(auth()).send({ amountMsat: 1000 }).expect(503);
    expect(r.body.code).toBe('ledger/backend_error');
    fake.hang.delete('POST /v1/invoices');
    expect(Number((await ds.query('SELECT COUNT(*) AS n FROM ledger_transactions'))[0].n)).toBe(before);
  });

  it('reconciles with the node: channel balance, invoices and payments agree', async () => {
    const rep = await request(t.url).get('/api/ledger/reconcile').set(auth()).expect(200);
    expect(rep.body).toMatchObject({ backend: 'lnd', ok: true, differences: [] });
    expect(rep.body.nodeBalanceMsat).toBe(fake.balanceMsat);
    expect(rep.body.paymentsChecked).toBeGreaterThanOrEqual(8);
    // the dev endpoints are for the mock only
    expect((await request(t.url).post('/api/ledger/dev/remote-invoices').set(auth()).send({}).expect(400)).body.code).toBe('ledger/not_mock_backend');
  });

  it('refuses a wrong macaroon and a certificate that is not the pinned one, without leaking the macaroon', async () => {
    const wrongMac = 'ab'.repeat(32);
    const b1 = new LndRestBackend({ url: fake.url, tlsCertPem: fake.tls.cert, macaroonHex: wrongMac, network: 'regtest', timeoutMs: 2000 });
    const e1 = await b1.init().then(() => null, (e: Error) => e);
    await b1.close();
    expect(e1?.message).toMatch(/verification failed/);
    expect(e1?.message).not.toContain(wrongMac);
    const other = makeCert();
    const b2 = new LndRestBackend({ url: fake.url, tlsCertPem: other.cert, macaroonHex: fake.macaroonHex, network: 'regtest', timeoutMs: 2000 });
    const e2 = await b2.init().then(() => null, (e: Error) => e);
    await b2.close();
    expect(e2?.message).toMatch(/certificate|self[- ]signed|unable to verify/i);
    expect(e2?.message).not.toContain(fake.macaroonHex);
  });
});
