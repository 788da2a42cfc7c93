import fc from 'fast-check';
import type { Principal } from '@app/contracts';
import { DataSource } from 'typeorm';
import { AppError } from '../../src/common/app-error';
import { EventLogWriter } from '../../src/event-log/event-log.writer';
import { LIGHTNING_BACKEND } from '../../src/ledger/backends/lightning-backend';
import type { MockLightningBackend } from '../../src/ledger/backends/mock-lightning.backend';
import { LedgerTransactionEntity } from '../../src/ledger/entities/ledger-transaction.entity';
import { MockInvoiceEntity } from '../../src/ledger/entities/mock-node.entity';
import { LedgerService } from '../../src/ledger/ledger.service';
import { ledgerViolations } from '../support/ledger-invariants';
import { databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * Property tests of the ledger's invariants (issue 8 section 1) with fast-check: random programs of invoices, settles,
 * expiries, remote payments (succeed / fail / in flight, then resolved), internal payments, repeated payments,
 * task-payout holds posted or voided, and sweeps/re-tracking (what a restart runs), executed in batches whose operations
 * run concurrently (interleaved through the group commit). After every batch, straight from the tables: the sum over
 * all accounts is 0, maintained totals equal the sum of transfers, no no-negative account is negative, no
 * payment_hash has two outgoing transactions and no hold is resolved twice. Only 4xx refusals are expected errors.
 */
const OPERATOR: Principal = { kind: 'user', userId: 'u1', username: 'op', role: 'operator', agentId: null, apiKeyId: null };
const AGENTS = ['ada', 'bob', 'cy'];

type Op =
  | { k: 'invoice'; amount: number; agent: number }
  | { k: 'settle'; i: number }
  | { k: 'expire'; i: number }
  | { k: 'payRemote'; amount: number; outcome: 'succeed' | 'fail' | 'in_flight'; fee: number; payer: number }
  | { k: 'payInternal'; i: number; payer: number }
  | { k: 'payAgain'; i: number }
  | { k: 'resolve'; i: number; ok: boolean; fee: number }
  | { k: 'hold'; agent: number; sats: number }
  | { k: 'finish'; i: number; complete: boolean }
  | { k: 'sweep' };

const idx = fc.nat({ max: 40 });
const who = fc.integer({ min: -1, max: AGENTS.length - 1 }); // -1 = treasury
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('invoice' as const), amount: fc.integer({ min: 1, max: 3_000_000 }), agent: who }),
  fc.record({ k: fc.constant('settle' as const), i: idx }),
  fc.record({ k: fc.constant('expire' as const), i: idx }),
  fc.record({
    k: fc.constant('payRemote' as const),
    amount: fc.integer({ min: 1, max: 2_000_000 }),
    outcome: fc.constantFrom('succeed' as const, 'fail' as const, 'in_flight' as const),
    fee: fc.integer({ min: 0, max: 30_000 }),
    payer: who,
  }),
  fc.record({ k: fc.constant('payInternal' as const), i: idx, payer: who }),
  fc.record({ k: fc.constant('payAgain' as const), i: idx }),
  fc.record({ k: fc.constant('resolve' as const), i: idx, ok: fc.boolean(), fee: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ k: fc.constant('hold' as const), agent: fc.nat({ max: AGENTS.length - 1 }), sats: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ k: fc.constant('finish' as const), i: idx, complete: fc.boolean() }),
  fc.constant({ k: 'sweep' as const }),
);

describe.each(databaseKinds())('ledger invariants under random interleavings (%s)', (db) => {
  let t: TestApp;
  let ds: DataSource;
  let ledger: LedgerService;
  let mock: MockLightningBackend;
  let events: EventLogWriter;

  beforeAll(async () => {
    // a long sweep interval: the test runs sweeps itself, as one of the random operations
    t = await startTestApp({ LEDGER_PAY_WAIT_MS: 2000, LEDGER_SWEEP_MS: 3_600_000 }, db);
    ds = t.app.get(DataSource);
    ledger = t.app.get(LedgerService);
    mock = t.app.get(LIGHTNING_BACKEND);
    events = t.app.get(EventLogWriter);
  });
  afterAll(async () => t?.close());

  it('holds after every batch', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }), async (batches) => {
        run++;
        const invoices: { hash: string; bolt11: string }[] = [];
        const remote: { hash: string; bolt11: string }[] = [];
        const tasks: { id: string; agentId: string }[] = [];
        const agentOf = (n: number) => (n < 0 ? undefined : `${AGENTS[n]}-${run}`);
        const pick = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
        const exec = async (op: Op): Promise<void> => {
          switch (op.k) {
            case 'invoice': {
              const r = await ledger.createInvoice({ amountMsat: op.amount, agentId: agentOf(op.agent), memo: 'p' }, OPERATOR);
              invoices.push({ hash: r.paymentHash, bolt11: r.bolt11 });
              return;
            }
            case 'settle': {
              const inv = pick(invoices, op.i);
              if (inv) await mock.settleInvoice(inv.hash);
              return;
            }
            case 'expire': {
              const inv = pick(invoices, op.i);
              if (!inv) return;
              const past = new Date(Date.now() - 1000).toISOString();
              await events.write(async ({ manager }) => {
                await manager.createQueryBuilder().update(MockInvoiceEntity).set({ expiresAt: past }).where('"paymentHash" = :h AND state = :s', { h: inv.hash, s: 'open' }).execute();
                await manager.createQueryBuilder().update(LedgerTransactionEntity).set({ expiresAt: past }).where('"paymentHash" = :h AND type = :t', { h: inv.hash, t: 'incoming' }).execute();
              });
              await ledger.expireInvoice(inv.hash);
              return;
            }
            case 'payRemote': {
              const r = await mock.createRemoteInvoice({ amountMsat: op.amount, memo: 'r', expirySeconds: 3600, outcome: op.outcome, reason: 'FAILURE_REASON_NO_ROUTE', feeMsat: op.fee });
              remote.push({ hash: r.paymentHash, bolt11: r.bolt11 });
              await ledger.pay({ bolt11: r.bolt11, agentId: agentOf(op.payer), maxFeeMsat: 20_000 }, OPERATOR);
              return;
            }
            case 'payInternal': {
              const inv = pick(invoices, op.i);
              if (inv) await ledger.pay({ bolt11: inv.bolt11, agentId: agentOf(op.payer) }, OPERATOR);
              return;
            }
            case 'payAgain': {
              const r = pick(remote, op.i);
              if (r) await ledger.pay({ bolt11: r.bolt11 }, OPERATOR);
              return;
            }
            case 'resolve': {
              const r = pick(remote, op.i);
              if (r) await mock.resolveRemotePayment(r.hash, op.ok ? 'succeed' : 'fail', 'FAILURE_REASON_TIMEOUT', op.fee);
              return;
            }
            case 'hold': {
              const id = `task-${run}-${tasks.length}`;
              const agentId = agentOf(op.agent)!;
              tasks.push({ id, agentId });
              const res = await events.write((tx) => ledger.holdTaskPayoutInTx(tx, { taskId: id, agentId, bidSats: op.sats }));
              if (!res.ok) expect(res.reason).toMatch(/treasury cannot cover/);
              return;
            }
            case 'finish': {
              const task = pick(tasks, op.i);
              if (!task) return;
              await events.write((tx) => (op.complete ? ledger.postTaskPayoutInTx(tx, task.id) : ledger.voidTaskPayoutInTx(tx, task.id, 'failed')));
              return;
            }
            case 'sweep':
              await ledger.sweep();
              await ledger.trackPendingPayments();
              return;
          }
        };
        for (const batch of batches) {
          const results = await Promise.allSettled(batch.map(exec));
          for (const r of results) {
            if (r.status === 'rejected') {
              const e = r.reason as unknown;
              // refusals (insufficient funds, already paid, not open, not found) are part of the game; anything else is a bug
              if (!(e instanceof AppError) || e.statusCode >= 500) throw e;
            }
          }
          expect(await ledgerViolations(ds)).toEqual([]);
        }
      }),
      { numRuns: db === 'sqlite' ? 30 : 12, endOnFailure: true },
    );
  }, 300_000);
});
