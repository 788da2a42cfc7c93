import { AgentClient, AgentSdkError, balance, RestClient, withdraw } from '@app/agent-sdk';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { FakeLnd } from '../../src/bench/support/fake-lnd';
import { ledgerViolations } from '../support/ledger-invariants';
import { enrollAgent } from '../support/swarm-helpers';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/** The built CLI (libs/agent-sdk/dist/cli.js); `pnpm build` first. */
const CLI = resolve(__dirname, '../../../../libs/agent-sdk/dist/cli.js');
const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, MC_URL: '', MC_API_KEY: '', ...env }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Agents withdraw their balance (issue 8 section 3, "SDK + CLI"): an agent paid for a task through the ledger reads
 * its balance with the SDK (`balance()`, msat as the API returns it) and the CLI (`agent balance`, sats and msat),
 * and withdraws by paying an invoice (`withdraw(bolt11)`, `agent withdraw <bolt11>`) over LND REST (the fake LND
 * over HTTPS, certificate pinned). A routing failure resolves as `failed` (nothing taken; CLI exit 1), a withdrawal
 * above the available balance is refused (409 `ledger/insufficient_funds`), bad invoices are 400, a non-agent key
 * gets 403; the key never appears in CLI output; the ledger invariants hold after every step.
 */
describe.each(databaseKinds())('agent SDK and CLI: balance and withdraw (fake LND, %s)', (db) => {
  let fake: FakeLnd;
  let t: TestApp;
  let ds: DataSource;
  let dir: string;
  let agent: { id: string; key: string };
  let client: AgentClient;
  const admin = () => ({ authorization: `Bearer ${t.adminKey}` });

  beforeAll(async () => {
    fake = new FakeLnd();
    await fake.start();
    dir = mkdtempSync(join(tmpdir(), 'mc-ledger-sdk-'));
    writeFileSync(join(dir, 'tls.cert'), fake.tls.cert);
    t = await startTestApp(
      {
        LIGHTNING_BACKEND: 'lnd',
        LND_REST_URL: fake.url,
        LND_TLS_CERT_PATH: join(dir, 'tls.cert'),
        LND_MACAROON_HEX: fake.macaroonHex,
        LND_TIMEOUT_MS: 2000,
        LEDGER_TASK_PAYOUTS: 'on',
        LEDGER_PAY_WAIT_MS: 3000,
        SPAWN_PERSONAS: '',
      },
      db,
    );
    ds = t.app.get(DataSource);
    agent = await enrollAgent(t, `withdrawer-${db}`);
    client = new AgentClient({ baseUrl: t.url, apiKey: agent.key });
  });
  afterAll(async () => {
    client?.close();
    await t?.close();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => expect(await ledgerViolations(ds)).toEqual([]));

  it('before any credit: balance() is 404 ledger/account_not_found; an operator key gets 403 ledger/not_an_agent', async () => {
    await expect(client.balance()).rejects.toMatchObject({ statusCode: 404, code: 'ledger/account_not_found' });
    const err = await balance(new RestClient({ baseUrl: t.url, apiKey: t.adminKey })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentSdkError);
    expect(err).toMatchObject({ statusCode: 403, code: 'ledger/not_an_agent' });
  });

  it('is paid for a task, and balance() shows it in msat (account and ADR-018 view)', async () => {
    // the treasury is funded over Lightning: an invoice settled on the node arrives on SubscribeInvoices
    const inv = await request(t.url).post('/api/ledger/invoices').set(admin()).send({ amountMsat: 2_000_000, memo: 'treasury' }).expect(201);
    await waitFor(() => fake.subscriberCount > 0);
    fake.settle(inv.body.paymentHash);
    await waitFor(async () => (await request(t.url).get(`/api/ledger/invoices/${inv.body.paymentHash}`).set(admin())).body.status === 'settled');

    const task = await request(t.url).post('/api/tasks').set(admin()).send({ description: 'paid work', auctionWindowMs: 300, budgetSats: 500 }).expect(201);
    await client.bid(task.body.id, 300);
    await waitFor(async () => (await request(t.url).get(`/api/tasks/${task.body.id}`).set(admin())).body.status === 'assigned');
    const held = await client.balance();
    expect(held.account).toMatchObject({ id: `agent:${agent.id}`, agentId: agent.id, creditsPendingMsat: 300_000, availableMsat: 0 });
    await client.start(task.body.id);
    await client.complete(task.body.id, 'done');

    const b = await client.balance();
    expect(b.account).toMatchObject({ agentId: agent.id, balanceMsat: 300_000, availableMsat: 300_000, creditsPendingMsat: 0, debitsPendingMsat: 0 });
    expect(b.lightning).toMatchObject({ accountId: `agent:${agent.id}`, outgoingSettledMsat: 0, pendingOutgoingMsat: 0 });
  });

  it('withdraw(bolt11) pays from the agent account: settled with the fee, balance down by amount + fee', async () => {
    const out = fake.remoteInvoice(100_000, { outcome: 'SUCCEEDED', feeMsat: 50 });
    const tx = await client.withdraw(out.bolt11, { maxFeeMsat: 1000, idempotencyKey: `w-${db}-1` });
    expect(tx).toMatchObject({ type: 'outgoing', status: 'settled', paymentHash: out.paymentHash, amountMsat: 100_000, feeMsat: 50, accountId: `agent:${agent.id}` });
    expect(tx.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect(fake.payment(out.paymentHash)).toEqual({ status: 'SUCCEEDED', feeMsat: 50 });
    // the same key again: the first payment, not a second one
    const again = await client.withdraw(out.bolt11, { maxFeeMsat: 1000, idempotencyKey: `w-${db}-1` });
    expect(again.id).toBe(tx.id);
    expect(fake.sendCalls.get(out.paymentHash)).toBe(1);
    const b = await client.balance();
    expect(b.account).toMatchObject({ balanceMsat: 199_950, availableMsat: 199_950, debitsPendingMsat: 0 });
    expect(b.lightning).toMatchObject({ outgoingSettledMsat: 100_000, feesMsat: 50 });
  });

  it('a routing failure resolves as failed and takes nothing; refusals throw AgentSdkError with the server code', async () => {
    const before = (await client.balance()).account;
    const noRoute = fake.remoteInvoice(10_000, { outcome: 'FAILED', reason: 'FAILURE_REASON_NO_ROUTE' });
    const failed = await withdraw(client.rest, noRoute.bolt11);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'FAILURE_REASON_NO_ROUTE' });
    expect((await client.balance()).account).toMatchObject({ balanceMsat: before.balanceMsat, availableMsat: before.availableMsat });

    const tooMuch = fake.remoteInvoice(before.availableMsat + 1, { outcome: 'SUCCEEDED' });
    await expect(client.withdraw(tooMuch.bolt11)).rejects.toMatchObject({ statusCode: 409, code: 'ledger/insufficient_funds' });
    expect(fake.sendCalls.get(tooMuch.paymentHash)).toBeUndefined();
    await expect(client.withdraw('lnbcrt1notaninvoice')).rejects.toMatchObject({ statusCode: 400, code: 'ledger/invalid_bolt11' });
    const paid = fake.remoteInvoice(1000, { outcome: 'SUCCEEDED' });
    await client.withdraw(paid.bolt11);
    await expect(client.withdraw(paid.bolt11)).rejects.toMatchObject({ statusCode: 409, code: 'ledger/already_paid' });
    expect(fake.sendCalls.get(paid.paymentHash)).toBe(1);
  });

  it('the CLI: agent balance (JSON, sats and msat) and agent withdraw <bolt11>; exit codes; the key never printed', async () => {
    const env = { MC_URL: t.url, MC_API_KEY: agent.key };
    const bal = await cli(['balance'], env);
    expect(bal.code).toBe(0);
    const parsed = JSON.parse(bal.stdout) as { agentId: string; availableSats: number; availableMsat: number; account: { availableMsat: number } };
    const sdk = await client.balance();
    expect(parsed).toMatchObject({ agentId: agent.id, availableMsat: sdk.account.availableMsat, availableSats: Math.floor(sdk.account.availableMsat / 1000) });
    expect(parsed.account.availableMsat).toBe(sdk.account.availableMsat);

    const out = fake.remoteInvoice(20_000, { outcome: 'SUCCEEDED', feeMsat: 7 });
    const w = await cli(['withdraw', out.bolt11, '--max-fee-msat', '100', '--url', t.url, '--key', agent.key]);
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({ status: 'settled', amountMsat: 20_000, feeMsat: 7, paymentHash: out.paymentHash });
    expect((await client.balance()).account.availableMsat).toBe(sdk.account.availableMsat - 20_007);

    const fail = fake.remoteInvoice(5000, { outcome: 'FAILED', reason: 'FAILURE_REASON_TIMEOUT' });
    const wf = await cli(['withdraw', fail.bolt11], env);
    expect(wf.code).toBe(1);
    expect(JSON.parse(wf.stdout)).toMatchObject({ status: 'failed', failureReason: 'FAILURE_REASON_TIMEOUT' });
    expect(wf.stderr).toContain('withdraw failed: FAILURE_REASON_TIMEOUT');

    const refused = await cli(['withdraw', 'lnbcrt1notaninvoice'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ledger/invalid_bolt11 (400)');
    const notAgent = await cli(['balance', '--url', t.url, '--key', t.adminKey]);
    expect(notAgent.code).toBe(1);
    expect(notAgent.stderr).toContain('ledger/not_an_agent (403)');

    const usage = await cli(['withdraw'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('withdraw needs exactly one <bolt11> invoice');
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/pnpm agent balance/);
    expect(help.stdout).toMatch(/pnpm agent withdraw <bolt11>/);

    for (const r of [bal, w, wf, refused, notAgent, usage]) {
      expect(r.stdout + r.stderr).not.toContain(agent.key);
      expect(r.stdout + r.stderr).not.toContain(t.adminKey);
    }
  }, 60_000);
});
