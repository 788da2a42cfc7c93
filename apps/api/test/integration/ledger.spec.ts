import { createECDH, randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { encodeBolt11 } from '../../src/ledger/bolt11.util';
import { LedgerService } from '../../src/ledger/ledger.service';
import { ReconciliationService } from '../../src/ledger/reconciliation.service';
import { ledgerViolations } from '../support/ledger-invariants';
import { createUserKey, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * Lightning ledger over REST on the mock node (issue 8 sections 1-4): receive, pay (remote succeed / fail / in
 * flight, internal), balances by ADR-018's formula and by account, roles, events on channel `ledger`, and bad input
 * (4xx, nothing written). The invariants are re-checked from the tables after every step.
 */
const TABLES = ['ledger_accounts', 'ledger_transfers', 'ledger_transactions', 'ledger_mock_invoices', 'ledger_mock_payments', 'event_log'];

function foreignInvoice(opts: { network?: 'mainnet' | 'regtest'; amountMsat?: number | null; ageS?: number; expiryS?: number }): string {
  const ecdh = createECDH('secp256k1');
  ecdh.generateKeys();
  return encodeBolt11({
    network: opts.network ?? 'regtest',
    privateKeyHex: ecdh.getPrivateKey('hex').padStart(64, '0'),
    paymentHash: randomBytes(32).toString('hex'),
    paymentSecret: randomBytes(32).toString('hex'),
    amountMsat: opts.amountMsat === undefined ? 1000 : opts.amountMsat,
    description: 'foreign',
    expirySeconds: opts.expiryS ?? 3600,
    nowMs: Date.now() - (opts.ageS ?? 0) * 1000,
  });
}

describe.each(databaseKinds())('ledger over REST (%s)', (db) => {
  let t: TestApp;
  let ds: DataSource;
  let viewer: string;
  let operator: string;
  const admin = () => ({ authorization: `Bearer ${t.adminKey}` });
  const op = () => ({ authorization: `Bearer ${operator}` });

  beforeAll(async () => {
    t = await startTestApp({ LEDGER_PAY_WAIT_MS: 3000 }, db);
    ds = t.app.get(DataSource);
    viewer = await createUserKey(t, 'viewer');
    operator = await createUserKey(t, 'operator');
  });
  afterAll(async () => t?.close());

  afterEach(async () => {
    expect(await ledgerViolations(ds)).toEqual([]);
  });

  const counts = async () => {
    const out: Record<string, number> = {};
    for (const tbl of TABLES) out[tbl] = Number((await ds.query(`SELECT COUNT(*) AS n FROM ${tbl}`))[0].n);
    return out;
  };
  const treasury = async () => (await request(t.url).get('/api/ledger/balances').set(op()).expect(200)).body.treasury;

  let funded = '';

  it('creates a real BOLT11 invoice (pending incoming) and settles it only with the right preimage', async () => {
    const inv = await request(t.url).post('/api/ledger/invoices').set(op()).send({ amountMsat: 2_000_000, memo: 'top-up' }).expect(201);
    expect(inv.body).toMatchObject({ type: 'incoming', status: 'pending', amountMsat: 2_000_000, memo: 'top-up', accountId: 'treasury', preimage: null });
    expect(inv.body.bolt11).toMatch(/^lnbcrt20u1/);
    expect(inv.body.paymentHash).toMatch(/^[0-9a-f]{64}$/);
    funded = inv.body.paymentHash;
    const dec = await request(t.url).post('/api/ledger/decode').set(op()).send({ bolt11: inv.body.bolt11 }).expect(200);
    expect(dec.body).toMatchObject({ paymentHash: funded, amountMsat: 2_000_000, description: 'top-up', internal: true, expired: false });
    expect((await treasury()).creditsPendingMsat).toBe(2_000_000);
    expect((await treasury()).availableMsat).toBe(0);

    const before = await counts();
    const wrong = await request(t.url).post(`/api/ledger/dev/invoices/${funded}/settle`).set(admin()).send({ preimage: 'ab'.repeat(32) }).expect(400);
    expect(wrong.body.code).toBe('ledger/preimage_mismatch');
    const notHex = await request(t.url).post(`/api/ledger/dev/invoices/${funded}/settle`).set(admin()).send({ preimage: 'zz' }).expect(400);
    expect(notHex.body.code).toBe('ledger/invalid_preimage');
    expect(await counts()).toEqual(before);

    const s = await request(t.url).post(`/api/ledger/dev/invoices/${funded}/settle`).set(admin()).send({}).expect(200);
    expect(s.body).toMatchObject({ status: 'settled' });
    expect(s.body.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect((await treasury())).toMatchObject({ balanceMsat: 2_000_000, availableMsat: 2_000_000, creditsPendingMsat: 0 });
    // settling twice is refused by the node and changes nothing
    await request(t.url).post(`/api/ledger/dev/invoices/${funded}/settle`).set(admin()).send({}).expect(409);
    const ev = await request(t.url).get('/api/events?channel=ledger&limit=50').set(admin()).expect(200);
    const types = ev.body.items.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['invoice.created', 'invoice.settled']));
    const created = ev.body.items.find((e: { type: string }) => e.type === 'invoice.created');
    expect(JSON.stringify(created.data)).not.toContain(s.body.preimage);
  });

  it('pays a remote invoice: holds amount + fee limit, posts amount, fee to fees, releases the rest', async () => {
    const r = await request(t.url).post('/api/ledger/dev/remote-invoices').set(admin()).send({ amountMsat: 500_000, memo: 'coffee', outcome: 'succeed', feeMsat: 1200 }).expect(201);
    const p = await request(t.url).post('/api/ledger/payments').set(op()).send({ bolt11: r.body.bolt11, maxFeeMsat: 5000 }).expect(201);
    expect(p.body).toMatchObject({ type: 'outgoing', status: 'settled', amountMsat: 500_000, feeMsat: 1200, maxFeeMsat: 5000, accountId: 'treasury' });
    const b = (await request(t.url).get('/api/ledger/balances').set(op()).expect(200)).body;
    expect(b.treasury).toMatchObject({ balanceMsat: 2_000_000 - 500_000 - 1200, debitsPendingMsat: 0 });
    expect(b.fees.balanceMsat).toBe(1200);
    expect(b.node).toMatchObject({ incomingSettledMsat: 2_000_000, outgoingSettledMsat: 500_000, feesMsat: 1200, netMsat: 2_000_000 - 501_200, pendingOutgoingMsat: 0 });
    // the same payment_hash is never paid twice
    const again = await request(t.url).post('/api/ledger/payments').set(op()).send({ bolt11: r.body.bolt11 }).expect(409);
    expect(again.body.code).toBe('ledger/already_paid');
    const byHash = await request(t.url).get(`/api/ledger/payments/${r.body.paymentHash}`).set(op()).expect(200);
    expect(byHash.body.preimage).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a failed payment releases its hold and records the reason', async () => {
    const before = (await treasury()).balanceMsat;
    const r = await request(t.url).post('/api/ledger/dev/remote-invoices').set(admin()).send({ amountMsat: 300_000, outcome: 'fail', reason: 'FAILURE_REASON_INSUFFICIENT_BALANCE' }).expect(201);
    const p = await request(t.url).post('/api/ledger/payments').set(op()).send({ bolt11: r.body.bolt11 }).expect(201);
    expect(p.body).toMatchObject({ status: 'failed', failureReason: 'FAILURE_REASON_INSUFFICIENT_BALANCE', feeMsat: 0 });
    expect(await treasury()).toMatchObject({ balanceMsat: before, debitsPendingMsat: 0, availableMsat: before });
  });

  it('an in-flight payment keeps its funds held (not spent, not available) until the node finishes it', async () => {
    const before = (await treasury()).balanceMsat;
    const r = await request(t.url).post('/api/ledger/dev/remote-invoices').set(admin()).send({ amountMsat: 100_000, outcome: 'in_flight' }).expect(201);
    const p = await request(t.url).post('/api/ledger/payments').set(op()).send({ bolt11: r.body.bolt11, maxFeeMsat: 1000 }).expect(201);
    expect(p.body.status).toBe('pending');
    expect(await treasury()).toMatchObject({ balanceMsat: before, debitsPendingMsat: 101_000, availableMsat: before - 101_000 });
    const node = (await request(t.url).get('/api/ledger/balances').set(op())).body.node;
    expect(node.pendingOutgoingMsat).toBe(101_000);
    const done = await request(t.url).post(`/api/ledger/dev/payments/${r.body.paymentHash}/resolve`).set(admin()).send({ outcome: 'succeed', feeMsat: 300 }).expect(200);
    expect(done.body).toMatchObject({ status: 'settled', feeMsat: 300 });
    expect(await treasury()).toMatchObject({ balanceMsat: before - 100_300, debitsPendingMsat: 0 });
  });

  it('pays our own invoice as an internal transfer to an agent account', async () => {
    const inv = await request(t.url).post('/api/ledger/invoices').set(op()).send({ amountMsat: 40_000, agentId: 'scout-1', memo: 'for scout' }).expect(201);
    expect(inv.body.accountId).toBe('agent:scout-1');
    const p = await request(t.url).post('/api/ledger/payments').set(op()).send({ bolt11: inv.body.bolt11 }).expect(201);
    expect(p.body).toMatchObject({ status: 'settled', feeMsat: 0 });
    await waitFor(async () => (await request(t.url).get(`/api/ledger/invoices/${inv.body.paymentHash}`).set(op())).body.status === 'settled');
    const accounts = (await request(t.url).get('/api/ledger/accounts').set(op()).expect(200)).body;
    expect(accounts.find((a: { id: string }) => a.id === 'agent:scout-1')).toMatchObject({ balanceMsat: 40_000, noNegative: true });
    const ev = await request(t.url).get('/api/events?channel=ledger&limit=100').set(admin()).expect(200);
    const sent = ev.body.items.find((e: { type: string; data: { paymentHash: string } }) => e.type === 'payment.sent' && e.data.paymentHash === inv.body.paymentHash);
    expect(sent.data).toMatchObject({ internal: true, amountMsat: 40_000, feeMsat: 0 });
  });

  it('is idempotent by idempotencyKey', async () => {
    const a = await request(t.url).post('/api/ledger/invoices').set(op()).send({ amountMsat: 7000, idempotencyKey: `inv-${db}-1` }).expect(201);
    const b = await request(t.url).post('/api/ledger/invoices').set(op()).send({ amountMsat: 7000, idempotencyKey: `inv-${db}-1` }).expect(201);
    expect(b.body.id).toBe(a.body.id);
    const c = await request(t.url).post('/api/ledger/invoices').set(op()).send({ amountMsat: 8000, idempotencyKey: `inv-${db}-1` }).expect(409);
    expect(c.body.code).toBe('ledger/idempotency_conflict');
  });

  it('lists transactions with filters and cursor paging', async () => {
    const all = await request(t.url).get('/api/ledger/transactions?limit=500').set(op()).expect(200);
    const n = all.body.items.length;
    expect(n).toBeGreaterThanOrEqual(6);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(t.url).get(`/api/ledger/transactions?limit=2${cursor ? `&cursor=${cursor}` : ''}`).set(op()).expect(200);
      seen.push(...res.body.items.map((x: { id: string }) => x.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((x: { id: string }) => x.id));
    const failed = await request(t.url).get('/api/ledger/transactions?status=failed&type=outgoing').set(op()).expect(200);
    expect(failed.body.items.length).toBe(1);
    const agent = await request(t.url).get('/api/ledger/transactions?agentId=scout-1').set(op()).expect(200);
    expect(agent.body.items.every((x: { agentId: string }) => x.agentId === 'scout-1')).toBe(true);
  });

  it('viewers get 403 on every ledger endpoint', async () => {
    const v = { authorization: `Bearer ${viewer}` };
    for (const [m, path] of [
      ['get', '/api/ledger/balances'],
      ['get', '/api/ledger/accounts'],
      ['get', '/api/ledger/transfers'],
      ['get', '/api/ledger/transactions'],
      ['get', `/api/ledger/invoices/${funded}`],
      ['post', '/api/ledger/invoices'],
      ['post', '/api/ledger/payments'],
      ['post', '/api/ledger/decode'],
      ['post', `/api/ledger/dev/invoices/${funded}/settle`],
    ] as const) {
      const res = await request(t.url)[m](path).set(v).send({});
      expect([path, res.status]).toEqual([path, 403]);
    }
    // operators may not drive the mock node
    await request(t.url).post('/api/ledger/dev/remote-invoices').set(op()).send({}).expect(403);
    await request(t.url).get('/api/ledger/balances').expect(401);
  });

  it('bad input: 4xx with a domain code, and nothing written', async () => {
    const before = await counts();
    const ours = (await request(t.url).get(`/api/ledger/invoices/${funded}`).set(op())).body.bolt11 as string;
    const cases: [string, string, unknown, number, string?][] = [
      ['post', '/api/ledger/payments', { bolt11: 'lnbcrt1garbage' }, 400, 'ledger/invalid_bolt11'],
      ['post', '/api/ledger/payments', { bolt11: 'hello world' }, 400, 'ledger/invalid_bolt11'],
      ['post', '/api/ledger/payments', { bolt11: ours.slice(0, -6) + 'qqqqqq' }, 400, 'ledger/invalid_bolt11'],
      ['post', '/api/ledger/payments', { bolt11: foreignInvoice({ network: 'mainnet' }) }, 400, 'ledger/wrong_network'],
      ['post', '/api/ledger/payments', { bolt11: foreignInvoice({ ageS: 7200, expiryS: 3600 }) }, 400, 'ledger/invoice_expired'],
      ['post', '/api/ledger/payments', { bolt11: foreignInvoice({ amountMsat: null }) }, 400, 'ledger/amount_required'],
      ['post', '/api/ledger/payments', { bolt11: foreignInvoice({ amountMsat: null }), amountMsat: 0 }, 400, 'ledger/invalid_amount'],
      ['post', '/api/ledger/payments', { bolt11: foreignInvoice({ amountMsat: 1000 }), amountMsat: 2000 }, 400, 'ledger/amount_mismatch'],
      ['post', '/api/ledger/payments', { bolt11: foreignInvoice({ amountMsat: 1000 }), maxFeeMsat: -1 }, 400, 'ledger/invalid_amount'],
      ['post', '/api/ledger/payments', { bolt11: ours }, 409, 'ledger/insufficient_funds'],
      ['post', '/api/ledger/payments', { bolt11: foreignInvoice({ amountMsat: 1000 }), agentId: 'nobody-here' }, 404, 'ledger/account_not_found'],
      ['post', '/api/ledger/payments', { bolt11: 42 }, 400],
      ['post', '/api/ledger/invoices', { amountMsat: 0 }, 400, 'ledger/invalid_amount'],
      ['post', '/api/ledger/invoices', { amountMsat: -5 }, 400, 'ledger/invalid_amount'],
      ['post', '/api/ledger/invoices', { amountMsat: 1.5 }, 400, 'ledger/invalid_amount'],
      ['post', '/api/ledger/invoices', { amountMsat: 21_000_001 * 1e11 }, 400, 'ledger/amount_too_large'],
      ['post', '/api/ledger/invoices', { amountMsat: '1000' }, 400],
      ['post', '/api/ledger/invoices', { amountMsat: 1000, expirySeconds: 5 }, 400],
      ['post', '/api/ledger/invoices', { amountMsat: 1000, memo: 'x'.repeat(640) }, 400],
      ['post', '/api/ledger/invoices', { amountMsat: 1000, idempotencyKey: 'has spaces' }, 400],
      ['post', '/api/ledger/invoices', { amountMsat: 1000, extra: 1 }, 400],
      ['post', '/api/ledger/decode', { bolt11: 'lnbcrt1' }, 400, 'ledger/invalid_bolt11'],
      ['post', '/api/ledger/decode', { bolt11: 'lnbc1' }, 400, 'ledger/wrong_network'],
      ['post', `/api/ledger/dev/invoices/${'0'.repeat(64)}/settle`, {}, 404, 'ledger/invoice_not_found'],
      ['post', `/api/ledger/dev/invoices/${funded}/settle`, { preimage: 'ab'.repeat(31) }, 400, 'ledger/invalid_preimage'],
      ['post', '/api/ledger/dev/invoices/not-a-hash/settle', {}, 400, 'ledger/bad_ref'],
      ['post', `/api/ledger/dev/payments/${'1'.repeat(64)}/resolve`, { outcome: 'succeed' }, 404, 'ledger/payment_not_found'],
      ['get', `/api/ledger/invoices/${'2'.repeat(64)}`, undefined, 404, 'ledger/invoice_not_found'],
      ['get', '/api/ledger/invoices/nope', undefined, 400, 'ledger/bad_ref'],
      ['get', '/api/ledger/transactions?status=lost', undefined, 400],
      ['get', '/api/ledger/transactions?cursor=bm9wZQ', undefined, 400, 'ledger/bad_cursor'],
      ['get', '/api/ledger/transactions?from=yesterday', undefined, 400],
    ];
    for (const [m, path, body, status, code] of cases) {
      const req = m === 'get' ? request(t.url).get(path).set(admin()) : request(t.url).post(path).set(admin()).send(body as object);
      const res = await req;
      expect([path, JSON.stringify(body)?.slice(0, 60), res.status]).toEqual([path, JSON.stringify(body)?.slice(0, 60), status]);
      expect(res.body.statusCode).toBe(status);
      expect(res.body.code).toMatch(/^[a-z][a-z0-9-]*\/[a-z][a-z0-9_]*$/);
      if (code) expect(res.body.code).toBe(code);
    }
    expect(await counts()).toEqual(before);
  });

  it('expires an unpaid invoice through the sweep (hold expired, invoice.expired), and a late settle is refused by the node', async () => {
    const pendingBefore = (await treasury()).creditsPendingMsat as number;
    const inv = await request(t.url).post('/api/ledger/invoices').set(op()).send({ amountMsat: 9000, expirySeconds: 60 }).expect(201);
    expect((await treasury()).creditsPendingMsat).toBe(pendingBefore + 9000);
    const hash = inv.body.paymentHash as string;
    // time passes: move both the node's and the ledger's expiry into the past
    const past = new Date(Date.now() - 1000).toISOString();
    await ds.query(`UPDATE ledger_mock_invoices SET "expiresAt" = ${db === 'postgres' ? '$1' : '?'} WHERE "paymentHash" = ${db === 'postgres' ? '$2' : '?'}`, [past, hash]);
    await ds.query(`UPDATE ledger_transactions SET "expiresAt" = ${db === 'postgres' ? '$1' : '?'} WHERE "paymentHash" = ${db === 'postgres' ? '$2' : '?'}`, [past, hash]);
    await t.app.get(LedgerService).sweep();
    const got = await request(t.url).get(`/api/ledger/invoices/${hash}`).set(op()).expect(200);
    expect(got.body.status).toBe('expired');
    expect((await treasury()).creditsPendingMsat).toBe(pendingBefore);
    await request(t.url).post(`/api/ledger/dev/invoices/${hash}/settle`).set(admin()).send({}).expect(409);
    const ev = await request(t.url).get('/api/events?channel=ledger&type=invoice.expired').set(admin()).expect(200);
    expect(ev.body.items.some((e: { data: { paymentHash: string } }) => e.data.paymentHash === hash)).toBe(true);
  });

  it('serves the invoice as a QR code (SVG)', async () => {
    const res = await request(t.url).get(`/api/ledger/invoices/${funded}/qr`).set(op()).expect(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(String(res.text ?? res.body)).toMatch(/^<svg[\s\S]*<path[\s\S]*<\/svg>\s*$/);
  });

  it('exports every transaction of a date range as CSV and NDJSON, oldest first, stable columns', async () => {
    const all: { id: string; createdAt: string }[] = [];
    for await (const x of t.app.get(LedgerService).iterateTransactions({})) all.push(x);
    const from = all[1].createdAt;
    const to = new Date(Date.parse(all[all.length - 1].createdAt) + 1).toISOString();
    const expected = all.filter((x) => x.createdAt >= from && x.createdAt < to).map((x) => x.id);
    const csv = await request(t.url).get(`/api/ledger/export?from=${from}&to=${to}`).set(op()).buffer(true).parse((r, cb) => {
      let d = '';
      r.on('data', (c: Buffer) => (d += c.toString()));
      r.on('end', () => cb(null, d));
    }).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = (csv.body as string).trim().split('\n');
    expect(lines[0]).toBe('createdAt,id,type,status,amountMsat,feeMsat,paymentHash,memo,accountId,agentId,taskId,settledAt,expiresAt,failureReason,bolt11');
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(expected);
    const nd = await request(t.url).get(`/api/ledger/export?format=ndjson&from=${from}&to=${to}`).set(op()).buffer(true).parse((r, cb) => {
      let d = '';
      r.on('data', (c: Buffer) => (d += c.toString()));
      r.on('end', () => cb(null, d));
    }).expect(200);
    const objs = (nd.body as string).trim().split('\n').map((l) => JSON.parse(l) as { id: string; amountMsat: number });
    expect(objs.map((o) => o.id)).toEqual(expected);
    expect(typeof objs[0].amountMsat).toBe('number');
    await request(t.url).get('/api/ledger/export?format=xml').set(op()).expect(400);
    await request(t.url).get('/api/ledger/export').set({ authorization: `Bearer ${viewer}` }).expect(403);
  });

  it('reconciles the ledger with the node, and reports drift (ledger.reconciliation_drift + system.warning)', async () => {
    const ok = await request(t.url).get('/api/ledger/reconcile').set(op()).expect(200);
    expect(ok.body).toMatchObject({ ok: true, backend: 'mock', differences: [] });
    expect(ok.body.nodeBalanceMsat).toBe(ok.body.ledgerNetMsat);
    // the node settles an invoice behind the ledger's back (a lost notification): a difference until the sweep runs
    const inv = await request(t.url).post('/api/ledger/invoices').set(op()).send({ amountMsat: 3000 }).expect(201);
    const q = db === 'postgres' ? ['$1', '$2'] : ['?', '?'];
    await ds.query(`UPDATE ledger_mock_invoices SET state = 'settled', "settledAt" = ${q[0]} WHERE "paymentHash" = ${q[1]}`, [new Date().toISOString(), inv.body.paymentHash]);
    const drift = await request(t.url).get('/api/ledger/reconcile').set(op()).expect(200);
    expect(drift.body.ok).toBe(false);
    expect(drift.body.differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'invoice_settled_on_node_only', paymentHash: inv.body.paymentHash }),
        expect.objectContaining({ kind: 'balance' }),
      ]),
    );
    const rec = t.app.get(ReconciliationService);
    const run = await rec.scheduledRun(Date.now() + 3_600_000_000);
    expect(run?.ok).toBe(false);
    // the same period is not run twice
    expect(await rec.scheduledRun(Date.now() + 3_600_000_000)).toBeNull();
    const ev = await request(t.url).get('/api/events?type=ledger.reconciliation_drift,system.warning').set(admin()).expect(200);
    expect(ev.body.items.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['ledger.reconciliation_drift', 'system.warning']));
    // the sweep reads the node and applies the missed settle: no drift left
    await t.app.get(LedgerService).sweep();
    expect((await request(t.url).get('/api/ledger/reconcile').set(op()).expect(200)).body).toMatchObject({ ok: true, differences: [] });
  });

  it('exports a range of many pages (> 250-row pages, shared timestamps) completely, once each, in (createdAt, id) order', async () => {
    // 1,203 failed outgoing rows (outside every balance) in groups of 7 sharing one createdAt: the keyset must
    // break ties by id, and the `from` bound must not make a later page start over
    const base = Date.parse('2030-01-01T00:00:00.000Z');
    const p = (i: number) => (db === 'postgres' ? `$${i}` : '?');
    const sql = `INSERT INTO ledger_transactions (id, type, status, "paymentHash", bolt11, preimage, "amountMsat", "feeMsat", "maxFeeMsat", memo, "accountId", "createdAt", "updatedAt")
      VALUES (${p(1)}, 'outgoing', 'failed', ${p(2)}, 'lnbcrt1', NULL, 1000, 0, 10, ${p(3)}, 'treasury', ${p(4)}, ${p(5)})`;
    const made: { id: string; createdAt: string }[] = [];
    for (let i = 0; i < 1203; i++) {
      const createdAt = new Date(base + Math.floor(i / 7) * 1000).toISOString();
      const id = `${randomBytes(4).toString('hex')}-many-${i}`;
      await ds.query(sql, [id, randomBytes(32).toString('hex'), `row "${i}", with a comma`, createdAt, createdAt]);
      made.push({ id, createdAt });
    }
    const from = new Date(base + 3000).toISOString(); // drops the first 3 groups (21 rows)
    const to = new Date(base + 170_000).toISOString(); // keeps groups 3..169
    const expected = made
      .filter((m) => m.createdAt >= from && m.createdAt < to)
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1))
      .map((m) => m.id);
    expect(expected.length).toBe((170 - 3) * 7);
    const csv = await request(t.url).get(`/api/ledger/export?from=${from}&to=${to}`).set(op()).buffer(true).parse((r, cb) => {
      let d = '';
      r.on('data', (c: Buffer) => (d += c.toString()));
      r.on('end', () => cb(null, d));
    }).expect(200);
    const lines = (csv.body as string).trim().split('\n');
    expect(lines.filter((l) => l.startsWith('createdAt,')).length).toBe(1);
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(expected);
    expect(lines[1]).toContain('"row ""');
    const nd = await request(t.url).get(`/api/ledger/export?format=ndjson&from=${from}&to=${to}`).set(op()).buffer(true).parse((r, cb) => {
      let d = '';
      r.on('data', (c: Buffer) => (d += c.toString()));
      r.on('end', () => cb(null, d));
    }).expect(200);
    expect((nd.body as string).trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(expected);
    // an empty range is a header only
    const empty = await request(t.url).get('/api/ledger/export?from=2040-01-01T00:00:00.000Z&to=2040-01-02T00:00:00.000Z').set(op()).expect(200);
    expect(String(empty.text).trim()).toBe('createdAt,id,type,status,amountMsat,feeMsat,paymentHash,memo,accountId,agentId,taskId,settledAt,expiresAt,failureReason,bolt11');
    expect(await ledgerViolations(ds)).toEqual([]);
  });
});
