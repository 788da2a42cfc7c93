import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** `ledger_jobs`: one row per scheduled ledger job with a lease, so exactly one instance runs it per period. */
export class LedgerJobs1764100000001 implements MigrationInterface {
  name = 'LedgerJobs1764100000001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ledger_jobs',
        columns: [
          { name: 'name', type: 'varchar', length: '32', isPrimary: true },
          { name: 'nextRunAt', type: 'varchar', length: '30', isNullable: false },
          { name: 'lastRunAt', type: 'varchar', length: '30', isNullable: true },
          { name: 'lastResult', type: 'text', isNullable: true },
        ],
      }),
    );
    await q.manager.createQueryBuilder().insert().into('ledger_jobs').values({ name: 'reconcile', nextRunAt: new Date(0).toISOString(), lastRunAt: null, lastResult: null }).execute();
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('ledger_jobs');
  }
}
