import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { LedgerService } from '../../src/ledger/ledger.service';
import { mintToken } from '../../src/ledger/l402/l402-token';
import { L402_ROOT_KEY_META } from '../../src/ledger/l402/l402.service';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { FakeLnd } from '../../src/bench/support/fake-lnd';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { ledgerViolations } from '../support/ledger-invariants';
import { createUserKey, databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * L402 pay-per-use (issue 8, ADR 0011) on the real server with the mock Lightning node: `POST /api/tasks` (service
 * `tasks`, 10 sats) and `POST /v1/chat/completions` (service `chat`, 2 sats) are priced. Full flow 402 -> parse
 * the challenge -> pay (mock settle, which hands the payer the preimage) -> `Authorization: L402 mac:preimage` ->
 * 2xx, the ledger shows the settled invoice; then every refusal (401/402 with an `l402/...` code, nothing written).
 *
 * Ported from the prototype's L402 tests ("no token or a garbage token gets 402 with the challenge fields and the
 * header; a valid token passes"), corrected where they encoded its bugs: a garbage token is a 401 that creates no
 * invoice (the prototype wrote a new invoice row on every refusal), a "valid" token passes only with the preimage of a
 * settled invoice (the prototype's auto-settling mock let any signed token through), the token carries no secret and
 * is checked with the server's key only, and it expires and is single-use.
 */
const TABLES = ['ledger_transactions', 'ledger_transfers', 'ledger_mock_invoices', 'ledger_l402_redemptions', 'event_log', 'tasks'];
const CHALLENGE = /^L402 macaroon="([A-Za-z0-9+/=]+)", invoice="(ln[a-z0-9]+)"$/;

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

describe.each(databaseKinds())('L402 pay-per-use (%s)', (db) => {
  let t: TestApp;
  let ds: DataSource;
  let llm: FakeLlmServer;
  let operator: string;
  let viewer: string;
  const admin = () => ({ authorization: `Bearer ${t.adminKey}` });

  beforeAll(async () => {
    llm = await startFake('ollama', 'primary');
    const yaml = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [{ name: 'primary', type: 'ollama', priority: 1, url: llm.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    // auctions of the posted tasks stay open for the whole suite: a closing auction (auction.closed, task.failed) would
    // otherwise land between the before/after counts of a "nothing written" check on a slow machine
    t = await startTestApp({ L402_ROUTES: 'tasks:10,chat:2', L402_TOKEN_TTL_S: 600, L402_CHALLENGES_PER_MIN: 0, LLM_PROVIDERS_PATH: yaml, AUCTION_WINDOW_MS: 3_600_000 }, db);
    ds = t.app.get(DataSource);
    operator = await createUserKey(t, 'operator');
    viewer = await createUserKey(t, 'viewer');
  });
  afterAll(async () => {
    await t?.close();
    await llm?.stop();
  });
  afterEach(async () => {
    expect(await ledgerViolations(ds)).toEqual([]);
  });

  const counts = async () => {
    const out: Record<string, number> = {};
    for (const tbl of TABLES) out[tbl] = Number((await ds.query(`SELECT COUNT(*) AS n FROM ${tbl}`))[0].n);
    return out;
  };
  const rootKey = async (): Promise<Uint8Array> => {
    const rows: { value: string }[] = await ds.query(`SELECT value FROM meta WHERE "key" = '${L402_ROOT_KEY_META}'`);
    return new Uint8Array(Buffer.from(rows[0].value, 'base64url'));
  };

  /** An unauthenticated call of a priced route: 402 with the challenge. */
  async function challenge(path = '/api/tasks', body: object = { description: 'paid task' }) {
    const res = await request(t.url).post(path).send(body).expect(402);
    const header = res.headers['www-authenticate'] as string;
    const m = CHALLENGE.exec(header);
    expect(m).not.toBeNull();
    return { res, macaroon: m![1], invoice: m![2], paymentHash: res.body.details.paymentHash as string };
  }

  /** The payer pays: the mock node settles the invoice and the payer's wallet learns the preimage. */
  async function pay(paymentHash: string): Promise<string> {
    const s = await request(t.url).post(`/api/ledger/dev/invoices/${paymentHash}/settle`).set(admin()).send({}).expect(200);
    expect(s.body.status).toBe('settled');
    return s.body.preimage as string;
  }

  async function paidToken(path = '/api/tasks', body?: object) {
    const c = await challenge(path, body);
    const preimage = await pay(c.paymentHash);
    return { ...c, preimage, auth: `L402 ${c.macaroon}:${preimage}` };
  }

  /** Sends `authorization` to POST /api/tasks and expects `status` + `code` with no row written anywhere. */
  async function refused(authorization: string, status: 401 | 402, code: string, path = '/api/tasks', body: object = { description: 'x' }) {
    const before = await counts();
    const res = await request(t.url).post(path).set('authorization', authorization).send(body).expect(status);
    expect(res.body).toMatchObject({ statusCode: status, code });
    expect(typeof res.body.message).toBe('string');
    expect(await counts()).toEqual(before);
    return res;
  }

  it('full flow: 402 challenge -> pay the invoice -> L402 token -> 201; the ledger shows the settled invoice', async () => {
    const before = await counts();
    const c = await challenge('/api/tasks', { description: 'summarise the logs' });
    expect(c.res.body).toMatchObject({
      statusCode: 402,
      code: 'l402/payment_required',
      details: { service: 'tasks', amountSats: 10, amountMsat: 10_000, invoice: c.invoice, paymentHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    // the macaroon travels only in the header
    expect(JSON.stringify(c.res.body)).not.toContain(c.macaroon);
    // the challenge wrote one pending invoice (treasury) and nothing else of the route
    const after = await counts();
    expect(after.ledger_transactions).toBe(before.ledger_transactions + 1);
    expect(after.tasks).toBe(before.tasks);
    const dec = await request(t.url).post('/api/ledger/decode').set(admin()).send({ bolt11: c.invoice }).expect(200);
    expect(dec.body).toMatchObject({ paymentHash: c.paymentHash, amountMsat: 10_000, internal: true, expired: false });
    const pending = await request(t.url).get(`/api/ledger/transactions/${c.paymentHash}`).set(admin()).expect(200);
    expect(pending.body).toMatchObject({ type: 'incoming', status: 'pending', amountMsat: 10_000, accountId: 'treasury', memo: 'L402 tasks', preimage: null });
    expect(pending.body.idempotencyKey).toMatch(/^l402:[0-9a-f]{64}$/);

    const treasuryBefore = (await request(t.url).get('/api/ledger/balances').set(admin()).expect(200)).body.treasury.balanceMsat as number;
    const preimage = await pay(c.paymentHash);
    expect(sha256(preimage)).toBe(c.paymentHash);

    const ok = await request(t.url).post('/api/tasks').set('authorization', `L402 ${c.macaroon}:${preimage}`).send({ description: 'summarise the logs' }).expect(201);
    expect(ok.body).toMatchObject({ description: 'summarise the logs', status: 'bidding', createdBy: expect.stringMatching(/^l402:[0-9a-f]{16}$/) });

    const settled = await request(t.url).get(`/api/ledger/transactions/${c.paymentHash}`).set(admin()).expect(200);
    expect(settled.body).toMatchObject({ status: 'settled', amountMsat: 10_000, preimage });
    const treasuryAfter = (await request(t.url).get('/api/ledger/balances').set(admin()).expect(200)).body.treasury.balanceMsat as number;
    expect(treasuryAfter - treasuryBefore).toBe(10_000);
    const rows: { type: string; taskId: string | null; data: unknown }[] = await ds.query('SELECT type, "taskId", data FROM event_log');
    const types = rows.filter((r) => r.taskId === ok.body.id || JSON.stringify(r.data).includes(c.paymentHash)).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['invoice.created', 'invoice.settled', 'task.created']));
    expect(Number((await ds.query(`SELECT COUNT(*) AS n FROM ledger_l402_redemptions WHERE "paymentHash" = '${c.paymentHash}'`))[0].n)).toBe(1);

    // replay: one paid token buys one call
    await refused(`L402 ${c.macaroon}:${preimage}`, 401, 'l402/token_used', '/api/tasks', { description: 'summarise the logs' });
  });

  it('the OpenAI-compatible chat route: LSAT scheme and a URL-safe macaroon are accepted', async () => {
    const c = await challenge('/v1/chat/completions', { model: 'auto', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.res.body.details).toMatchObject({ service: 'chat', amountSats: 2, amountMsat: 2000 });
    const preimage = await pay(c.paymentHash);
    const urlSafe = c.macaroon.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const r = await request(t.url)
      .post('/v1/chat/completions')
      .set('authorization', `LSAT ${urlSafe}:${preimage.toUpperCase()}`)
      .send({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] })
      .expect(200);
    expect(r.body.object).toBe('chat.completion');
    expect(typeof r.body.choices[0].message.content).toBe('string');
  });

  it('a route that refuses the admitted call (400, 403) releases the token: the same token works for the corrected request', async () => {
    const p = await paidToken();
    const bad = await request(t.url).post('/api/tasks').set('authorization', p.auth).send({}).expect(400);
    expect(bad.body.code).toBe('request/bad_request');
    expect(Number((await ds.query(`SELECT COUNT(*) AS n FROM ledger_l402_redemptions WHERE "paymentHash" = '${p.paymentHash}'`))[0].n)).toBe(0);
    // the L402 principal is restricted: it may not pick the agent (403), and that refusal releases the token too
    const agent = await request(t.url).post('/api/agents').set(admin()).send({ name: `l402-target-${Date.now()}` });
    const agentId = agent.body?.agent?.id ?? agent.body?.id ?? 'some-agent';
    const direct = await request(t.url).post('/api/tasks').set('authorization', p.auth).send({ description: 'pick one', agentId }).expect(403);
    expect(direct.body.code).toBe('l402/direct_assign_forbidden');
    await request(t.url).post('/api/tasks').set('authorization', p.auth).send({ description: 'second try' }).expect(201);
    await refused(p.auth, 401, 'l402/token_used');
  });

  it('concurrent use of one token: exactly one call is admitted, the others get l402/token_used', async () => {
    const p = await paidToken();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => request(t.url).post('/api/tasks').set('authorization', p.auth).send({ description: `race ${i}` })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const refusedCalls = results.filter((r) => r.status !== 201);
    expect(refusedCalls.map((r) => [r.status, r.body.code])).toEqual(refusedCalls.map(() => [401, 'l402/token_used']));
  });

  it('an unpaid invoice: 402 l402/invoice_unpaid with the same challenge again, no new invoice', async () => {
    const c = await challenge();
    // the payer cannot know it before paying; the test reads it from the mock node to isolate the "unpaid" check
    const [{ preimage }] = await ds.query(`SELECT preimage FROM ledger_mock_invoices WHERE "paymentHash" = '${c.paymentHash}'`);
    const res = await refused(`L402 ${c.macaroon}:${preimage}`, 402, 'l402/invoice_unpaid');
    expect(res.headers['www-authenticate']).toBe(`L402 macaroon="${c.macaroon}", invoice="${c.invoice}"`);
  });

  it('a token of another service, an expired token, a lower price: 401, nothing written', async () => {
    const p = await paidToken();
    await refused(p.auth, 401, 'l402/wrong_service', '/v1/chat/completions', { model: 'auto', messages: [{ role: 'user', content: 'hi' }] });

    // the same paid invoice, re-minted by the server's key with caveats that no longer hold
    const key = await rootKey();
    const [{ idempotencyKey }] = await ds.query(`SELECT "idempotencyKey" FROM ledger_transactions WHERE "paymentHash" = '${p.paymentHash}'`);
    const tokenId = String(idempotencyKey).slice('l402:'.length);
    const now = Math.floor(Date.now() / 1000);
    const expired = mintToken(key, { paymentHash: p.paymentHash, tokenId }, { service: 'tasks', priceMsat: 10_000, expiresAtS: now - 1 });
    const res = await refused(`L402 ${expired}:${p.preimage}`, 401, 'l402/token_expired');
    expect(res.body.message).toMatch(/expired at/);
    const cheap = mintToken(key, { paymentHash: p.paymentHash, tokenId }, { service: 'tasks', priceMsat: 1000, expiresAtS: now + 60 });
    await refused(`L402 ${cheap}:${p.preimage}`, 401, 'l402/price_mismatch');
    // the untouched token still works afterwards (no refusal consumed it)
    await request(t.url).post('/api/tasks').set('authorization', p.auth).send({ description: 'still good' }).expect(201);
  });

  it('bad input: malformed Authorization, non-base64, not a macaroon, wrong signature, bad preimage, unknown hash -> 401', async () => {
    const p = await paidToken();
    const hex = randomBytes(32).toString('hex');
    await refused('L402', 401, 'l402/malformed_authorization');
    await refused('L402 no-colon-here', 401, 'l402/malformed_authorization');
    await refused(`L402 ${p.macaroon}:`, 401, 'l402/malformed_authorization');
    await refused(`L402 ${p.macaroon},${p.macaroon}:${p.preimage}`, 401, 'l402/malformed_authorization');
    await refused(`L402 not*base64!:${hex}`, 401, 'l402/invalid_macaroon');
    await refused(`L402 ${Buffer.from('hello world').toString('base64')}:${hex}`, 401, 'l402/invalid_macaroon');
    await refused(`L402 ${p.macaroon}:abc`, 401, 'l402/invalid_preimage');
    await refused(`L402 ${p.macaroon}:${'zz'.repeat(32)}`, 401, 'l402/invalid_preimage');
    // preimage of another hash
    await refused(`L402 ${p.macaroon}:${hex}`, 401, 'l402/preimage_mismatch');
    // signed with another key
    const [{ idempotencyKey }] = await ds.query(`SELECT "idempotencyKey" FROM ledger_transactions WHERE "paymentHash" = '${p.paymentHash}'`);
    const tokenId = String(idempotencyKey).slice('l402:'.length);
    const grant = { service: 'tasks', priceMsat: 10_000, expiresAtS: Math.floor(Date.now() / 1000) + 600 };
    const forged = mintToken(randomBytes(32), { paymentHash: p.paymentHash, tokenId }, grant);
    await refused(`L402 ${forged}:${p.preimage}`, 401, 'l402/invalid_signature');
    // our token with one caveat byte changed (a later expiry)
    const bytes = Buffer.from(p.macaroon, 'base64');
    const at = bytes.indexOf('expires_at=') + 'expires_at='.length;
    bytes[at] = bytes[at] === 0x39 ? 0x38 : bytes[at] + 1;
    await refused(`L402 ${bytes.toString('base64')}:${p.preimage}`, 401, 'l402/invalid_signature');
    // signed by us, but for a hash the ledger never issued
    const otherPreimage = randomBytes(32).toString('hex');
    const unknown = mintToken(await rootKey(), { paymentHash: sha256(otherPreimage), tokenId }, grant);
    await refused(`L402 ${unknown}:${otherPreimage}`, 401, 'l402/unknown_payment');
    // the genuine token is still good after all of that
    await request(t.url).post('/api/tasks').set('authorization', p.auth).send({ description: 'after the noise' }).expect(201);
  });

  it('API keys and sessions are unaffected; L402 is refused on routes that are not priced', async () => {
    const before = await counts();
    await request(t.url).post('/api/tasks').set('authorization', `Bearer ${operator}`).send({ description: 'by key' }).expect(201);
    expect((await counts()).ledger_transactions).toBe(before.ledger_transactions); // no invoice for a keyed caller
    const v = await request(t.url).post('/api/tasks').set('authorization', `Bearer ${viewer}`).send({ description: 'viewer' }).expect(403);
    expect(v.body.code).toBe('auth/forbidden');
    const badKey = await request(t.url).post('/api/tasks').set('authorization', 'Bearer mck_nope').send({ description: 'x' }).expect(401);
    expect(badKey.body.code).toBe('auth/invalid_token');
    // a route without a price: no challenge, the ordinary 401
    const list = await request(t.url).get('/api/tasks').expect(401);
    expect(list.headers['www-authenticate']).toBeUndefined();
    const p = await paidToken();
    await refused(p.auth, 401, 'l402/not_priced', '/api/ledger/invoices', { amountMsat: 1000 });
    // the L402 principal is admitted to its priced route only: nothing else accepts the token
    const other = await request(t.url).get('/api/tasks').set('authorization', p.auth).expect(401);
    expect(other.body.code).toBe('l402/not_priced');
  });

  it('Swagger documents the 402 challenge on the priced routes only', async () => {
    const doc = (await request(t.url).get('/api/docs-json').set(admin()).expect(200)).body;
    for (const [path, method] of [['/api/tasks', 'post'], ['/v1/chat/completions', 'post']]) {
      const r402 = doc.paths[path][method].responses['402'];
      expect(r402.description).toMatch(/L402/);
      expect(r402.headers['WWW-Authenticate']).toBeDefined();
    }
    expect(doc.paths['/api/tasks'].get.responses['402']).toBeUndefined();
  });

  it('secrets: the root key is in no response and no event; events never carry a macaroon', async () => {
    const p = await paidToken();
    await request(t.url).post('/api/tasks').set('authorization', p.auth).send({ description: 'audit' }).expect(201);
    const key = Buffer.from(await rootKey()).toString('base64url');
    const events: { data: unknown }[] = await ds.query('SELECT data FROM event_log');
    const all = JSON.stringify(events);
    expect(all).not.toContain(key);
    expect(all).not.toContain(p.macaroon.slice(0, 40));
    const c = await challenge();
    expect(JSON.stringify(c.res.body)).not.toContain(key);
    expect(c.res.headers['www-authenticate']).not.toContain(key);
  });
});

describe('L402 on the LND backend (fake LND over REST)', () => {
  it('the challenge invoice is the node\'s; a settle the ledger has not applied yet is read from the node at redemption', async () => {
    const fake = new FakeLnd();
    await fake.start();
    const dir = mkdtempSync(join(tmpdir(), 'mc-l402-lnd-'));
    writeFileSync(join(dir, 'tls.cert'), fake.tls.cert);
    const t = await startTestApp({
      L402_ROUTES: 'tasks:7',
      LIGHTNING_BACKEND: 'lnd',
      LND_REST_URL: fake.url,
      LND_TLS_CERT_PATH: join(dir, 'tls.cert'),
      LND_MACAROON_HEX: fake.macaroonHex,
      LND_TIMEOUT_MS: 800,
      LEDGER_SWEEP_MS: 3_600_000,
    });
    try {
      const res = await request(t.url).post('/api/tasks').send({ description: 'over lnd' }).expect(402);
      const [, mac, invoice] = CHALLENGE.exec(res.headers['www-authenticate'] as string)!;
      const hash = res.body.details.paymentHash as string;
      const dec = await request(t.url).post('/api/ledger/decode').set('authorization', `Bearer ${t.adminKey}`).send({ bolt11: invoice }).expect(200);
      expect(dec.body).toMatchObject({ payee: fake.pubkey, amountMsat: 7000 });
      // the settle must not reach the ledger through the invoice stream: only the redemption's node lookup sees it
      fake.fail500.add('GET /v1/invoices/subscribe');
      fake.cutSubscriptions();
      fake.settle(hash);
      expect((await request(t.url).get(`/api/ledger/transactions/${hash}`).set('authorization', `Bearer ${t.adminKey}`).expect(200)).body.status).toBe('pending');
      const node = await t.app.get(LedgerService).backend.lookupInvoice(hash);
      expect(node.state).toBe('settled');
      await request(t.url).post('/api/tasks').set('authorization', `L402 ${mac}:${node.preimage}`).send({ description: 'over lnd' }).expect(201);
      const tx = await request(t.url).get(`/api/ledger/transactions/${hash}`).set('authorization', `Bearer ${t.adminKey}`).expect(200);
      expect(tx.body).toMatchObject({ status: 'settled', amountMsat: 7000, preimage: node.preimage });
      expect(await ledgerViolations(t.app.get(DataSource))).toEqual([]);
    } finally {
      await t.close();
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('L402 root key across a restart', () => {
  it('a token issued before a restart verifies after it (the key is persisted in meta, not regenerated)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-l402-'));
    const cfg = { L402_ROUTES: 'tasks:5', SQLITE_PATH: join(dir, 'l402.db') };
    let t = await startTestApp(cfg);
    let auth = '';
    try {
      const res = await request(t.url).post('/api/tasks').send({ description: 'before' }).expect(402);
      const [, mac] = CHALLENGE.exec(res.headers['www-authenticate'] as string)!;
      const s = await request(t.url).post(`/api/ledger/dev/invoices/${res.body.details.paymentHash}/settle`).set('authorization', `Bearer ${t.adminKey}`).send({}).expect(200);
      auth = `L402 ${mac}:${s.body.preimage}`;
    } finally {
      await t.close();
    }
    t = await startTestApp(cfg);
    try {
      await request(t.url).post('/api/tasks').set('authorization', auth).send({ description: 'after the restart' }).expect(201);
      await request(t.url).post('/api/tasks').set('authorization', auth).send({ description: 'again' }).expect(401);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('L402 challenge rate limit', () => {
  it('over L402_CHALLENGES_PER_MIN a client gets 429 l402/rate_limited and no invoice is created', async () => {
    const t = await startTestApp({ L402_ROUTES: 'tasks:1', L402_CHALLENGES_PER_MIN: 2 });
    try {
      const ds = t.app.get(DataSource);
      await request(t.url).post('/api/tasks').send({ description: 'a' }).expect(402);
      await request(t.url).post('/api/tasks').send({ description: 'b' }).expect(402);
      const n = async () => Number((await ds.query('SELECT COUNT(*) AS n FROM ledger_transactions'))[0].n);
      const before = await n();
      const r = await request(t.url).post('/api/tasks').send({ description: 'c' }).expect(429);
      expect(r.body.code).toBe('l402/rate_limited');
      expect(r.headers['www-authenticate']).toBeUndefined();
      expect(await n()).toBe(before);
      // keyed callers are not counted
      await request(t.url).post('/api/tasks').set('authorization', `Bearer ${t.adminKey}`).send({ description: 'keyed' }).expect(201);
    } finally {
      await t.close();
    }
  });
});

describe('L402 off (L402_ROUTES unset)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ L402_ROUTES: '' });
  });
  afterAll(async () => t?.close());

  it('priced routes keep the ordinary 401; no root key is created', async () => {
    const r = await request(t.url).post('/api/tasks').send({ description: 'x' }).expect(401);
    expect(r.body.code).toBe('auth/unauthenticated');
    expect(r.headers['www-authenticate']).toBeUndefined();
    const c = await request(t.url).post('/v1/chat/completions').send({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }).expect(401);
    expect(c.body.code).toBe('auth/unauthenticated');
    const ds = t.app.get(DataSource);
    expect(await ds.query(`SELECT value FROM meta WHERE "key" = '${L402_ROOT_KEY_META}'`)).toEqual([]);
    expect(Number((await ds.query('SELECT COUNT(*) AS n FROM ledger_transactions'))[0].n)).toBe(0);
  });
});
