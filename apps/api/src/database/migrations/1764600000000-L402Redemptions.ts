import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * L402 pay-per-use (issue 8, ADR 0011): `ledger_l402_redemptions`, one row per redeemed token keyed by its
 * payment_hash (the replay guard). Dialect-neutral (SQLite and PostgreSQL).
 */
export class L402Redemptions1764600000000 implements MigrationInterface {
  name = 'L402Redemptions1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ledger_l402_redemptions',
        columns: [
          { name: 'paymentHash', type: 'varchar', length: '64', isPrimary: true },
          { name: 'tokenId', type: 'varchar', length: '64', isNullable: false },
          { name: 'service', type: 'varchar', length: '32', isNullable: false },
          { name: 'amountMsat', type: 'bigint', isNullable: false },
          { name: 'createdAt', type: 'varchar', length: '30', isNullable: false },
          { name: 'updatedAt', type: 'varchar', length: '30', isNullable: false },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('ledger_l402_redemptions');
  }
}
