import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

const str = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable });
const big = (name: string): TableColumnOptions => ({ name, type: 'bigint', isNullable: false, default: 0 });
const text = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'text', isNullable: nullable });

/**
 * Lightning ledger (ADR 0010): accounts with maintained totals, immutable two-phase transfers, the ADR-018
 * transaction view, and the mock Lightning node's own state. Amounts are integer msat (bigint). Dialect-neutral.
 * Seeds the three system accounts: `node` (the outside world), `treasury` (no-negative) and `fees`.
 */
export class Ledger1764100000000 implements MigrationInterface {
  name = 'Ledger1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ledger_accounts',
        columns: [
          { ...str('id', 80), isPrimary: true },
          str('kind', 16),
          str('agentId', 64, true),
          { name: 'noNegative', type: 'boolean', isNullable: false, default: false },
          big('debitsPosted'),
          big('creditsPosted'),
          big('debitsPending'),
          big('creditsPending'),
          str('createdAt', 30),
          str('updatedAt', 30),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'ledger_transfers',
        columns: [
          { ...str('id', 64), isPrimary: true },
          str('kind', 8),
          str('debitAccountId', 80),
          str('creditAccountId', 80),
          big('amountMsat'),
          str('pendingId', 64, true),
          str('timeoutAt', 30, true),
          str('purpose', 32),
          str('ref', 128, true),
          str('idempotencyKey', 160, true),
          str('createdAt', 30),
        ],
        indices: [
          { name: 'UQ_ledger_transfers_pending', columnNames: ['pendingId'], isUnique: true },
          { name: 'UQ_ledger_transfers_idem', columnNames: ['idempotencyKey'], isUnique: true },
          { name: 'IDX_ledger_transfers_debit', columnNames: ['debitAccountId'] },
          { name: 'IDX_ledger_transfers_credit', columnNames: ['creditAccountId'] },
          { name: 'IDX_ledger_transfers_ref', columnNames: ['ref'] },
          { name: 'IDX_ledger_transfers_timeout', columnNames: ['kind', 'timeoutAt'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'ledger_transactions',
        columns: [
          { ...str('id', 64), isPrimary: true },
          str('type', 10),
          str('status', 10),
          str('paymentHash', 64),
          text('bolt11'),
          str('preimage', 64, true),
          big('amountMsat'),
          big('feeMsat'),
          big('maxFeeMsat'),
          str('memo', 640),
          str('accountId', 80),
          str('taskId', 64, true),
          str('agentId', 64, true),
          str('holdTransferId', 64, true),
          str('expiresAt', 30, true),
          str('failureReason', 300, true),
          str('idempotencyKey', 160, true),
          str('createdAt', 30),
          str('settledAt', 30, true),
          str('updatedAt', 30),
        ],
        indices: [
          { name: 'UQ_ledger_tx_hash', columnNames: ['type', 'paymentHash'], isUnique: true },
          { name: 'UQ_ledger_tx_idem', columnNames: ['idempotencyKey'], isUnique: true },
          { name: 'IDX_ledger_tx_status_expiry', columnNames: ['status', 'expiresAt'] },
          { name: 'IDX_ledger_tx_hash', columnNames: ['paymentHash'] },
          { name: 'IDX_ledger_tx_agent', columnNames: ['agentId'] },
          { name: 'IDX_ledger_tx_task', columnNames: ['taskId'] },
          { name: 'IDX_ledger_tx_created', columnNames: ['createdAt', 'id'] },
        ],
      }),
    );
    // the mock Lightning node (LIGHTNING_BACKEND=mock): its key, its invoices and the payments it made
    await q.createTable(
      new Table({
        name: 'ledger_mock_node',
        columns: [{ ...str('name', 32), isPrimary: true }, str('privateKey', 64), str('publicKey', 66), str('createdAt', 30)],
      }),
    );
    await q.createTable(
      new Table({
        name: 'ledger_mock_invoices',
        columns: [
          { ...str('paymentHash', 64), isPrimary: true },
          str('origin', 8),
          str('preimage', 64),
          text('bolt11'),
          { name: 'amountMsat', type: 'bigint', isNullable: true },
          str('state', 10),
          str('outcome', 10),
          str('outcomeReason', 64, true),
          big('feeMsat'),
          str('expiresAt', 30),
          str('createdAt', 30),
          str('settledAt', 30, true),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'ledger_mock_payments',
        columns: [
          { ...str('paymentHash', 64), isPrimary: true },
          str('status', 10),
          big('amountMsat'),
          big('feeMsat'),
          str('preimage', 64, true),
          str('failureReason', 64, true),
          str('createdAt', 30),
          str('updatedAt', 30),
        ],
      }),
    );
    const now = new Date().toISOString();
    for (const [id, kind, noNegative] of [
      ['node', 'node', false],
      ['treasury', 'treasury', true],
      ['fees', 'fees', false],
    ] as const) {
      await q.manager
        .createQueryBuilder()
        .insert()
        .into('ledger_accounts')
        .values({ id, kind, agentId: null, noNegative, debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0, createdAt: now, updatedAt: now })
        .execute();
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['ledger_mock_payments', 'ledger_mock_invoices', 'ledger_mock_node', 'ledger_transactions', 'ledger_transfers', 'ledger_accounts']) {
      await q.dropTable(t);
    }
  }
}
