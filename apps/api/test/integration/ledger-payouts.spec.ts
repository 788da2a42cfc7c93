import request from 'supertest';
import { DataSource } from 'typeorm';
import { ledgerViolations } from '../support/ledger-invariants';
import { enrollAgent, taskEvents } from '../support/swarm-helpers';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * Task payouts (issue 8 section 3) with LEDGER_TASK_PAYOUTS=on: the winning bid is held from the treasury at
 * assignment (hold.created in the auction's unit), posted to the agent with task.completed (same unit), voided on
 * failure or cancel (durable consumer); an auction whose winning bid the treasury cannot cover fails with the reason.
 */
describe.each(databaseKinds())('ledger task payouts (%s)', (db) => {
  let t: TestApp;
  let ds: DataSource;
  const auth = () => ({ authorization: `Bearer ${t.adminKey}` });
  const treasury = async () => (await request(t.url).get('/api/ledger/balances').set(auth())).body.treasury;
  const agentAccount = async (id: string) => ((await request(t.url).get('/api/ledger/accounts').set(auth())).body as { id: string }[]).find((a) => a.id === `agent:${id}`) as
    | { balanceMsat: number; creditsPendingMsat: number }
    | undefined;

  beforeAll(async () => {
    t = await startTestApp({ LEDGER_TASK_PAYOUTS: 'on' }, db);
    ds = t.app.get(DataSource);
  });
  afterAll(async () => t?.close());
  afterEach(async () => expect(await ledgerViolations(ds)).toEqual([]));

  /** Posts a task with a short auction, lets `agentKey` bid `sats`, and waits for the close. */
  async function auction(agentKey: string, sats: number): Promise<string> {
    const task = await request(t.url).post('/api/tasks').set(auth()).send({ description: `payout ${sats}`, auctionWindowMs: 1500 }).expect(201);
    await request(t.url).post(`/api/tasks/${task.body.id}/bids`).set({ authorization: `Bearer ${agentKey}` }).send({ bidSats: sats }).expect(201);
    await waitFor(async () => (await request(t.url).get(`/api/tasks/${task.body.id}`).set(auth())).body.status !== 'bidding');
    return task.body.id as string;
  }

  it('refuses the assignment when the treasury cannot cover the bid', async () => {
    const a = await enrollAgent(t, `poor-${db}`);
    const id = await auction(a.key, 50);
    const task = (await request(t.url).get(`/api/tasks/${id}`).set(auth())).body;
    expect(task).toMatchObject({ status: 'failed' });
    expect(task.failureReason).toMatch(/treasury cannot cover the bid: 0 sats available, 50 sats needed/);
    expect((await taskEvents(t, id)).map((e) => e.type)).not.toContain('hold.created');
  });

  it('holds at assignment, pays with task.completed; voids on failure and on cancel', async () => {
    const inv = await request(t.url).post('/api/ledger/invoices').set(auth()).send({ amountMsat: 1_000_000 }).expect(201);
    await request(t.url).post(`/api/ledger/dev/invoices/${inv.body.paymentHash}/settle`).set(auth()).send({}).expect(200);
    const a = await enrollAgent(t, `worker-${db}`);

    const done = await auction(a.key, 300);
    expect((await request(t.url).get(`/api/tasks/${done}`).set(auth())).body.status).toBe('assigned');
    expect(await treasury()).toMatchObject({ debitsPendingMsat: 300_000, availableMsat: 700_000 });
    expect((await agentAccount(a.id))?.creditsPendingMsat).toBe(300_000);
    await request(t.url).post(`/api/tasks/${done}/complete`).set({ authorization: `Bearer ${a.key}` }).send({ result: 'ok' }).expect(200);
    expect(await treasury()).toMatchObject({ balanceMsat: 700_000, debitsPendingMsat: 0 });
    expect(await agentAccount(a.id)).toMatchObject({ balanceMsat: 300_000, creditsPendingMsat: 0 });
    const ev = await taskEvents(t, done);
    const types = ev.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['hold.created', 'task.completed', 'hold.posted']));
    // the payout commits with task.completed: adjacent seqs of one unit
    const completed = ev.find((e) => e.type === 'task.completed')!;
    const posted = ev.find((e) => e.type === 'hold.posted')!;
    expect(posted.seq).toBe(completed.seq + 1);

    const failed = await auction(a.key, 200);
    await request(t.url).post(`/api/tasks/${failed}/fail`).set({ authorization: `Bearer ${a.key}` }).send({ reason: 'broke' }).expect(200);
    await waitFor(async () => (await taskEvents(t, failed)).some((e) => e.type === 'hold.voided'));
    const cancelled = await auction(a.key, 100);
    await request(t.url).post(`/api/tasks/${cancelled}/cancel`).set(auth()).send({}).expect(200);
    await waitFor(async () => (await taskEvents(t, cancelled)).some((e) => e.type === 'hold.voided'));
    expect(await treasury()).toMatchObject({ balanceMsat: 700_000, debitsPendingMsat: 0, availableMsat: 700_000 });
    expect((await agentAccount(a.id))?.balanceMsat).toBe(300_000);
  });
});
