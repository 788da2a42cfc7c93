import { MigrationInterface, QueryRunner } from 'typeorm';

/** [index, column] pairs made partial (`WHERE <column> IS NOT NULL`). */
const PARTIAL: readonly [name: string, column: string, unique: boolean][] = [
  ['UQ_ledger_transfers_pending', 'pendingId', true],
  ['UQ_ledger_transfers_idem', 'idempotencyKey', true],
  ['IDX_ledger_transfers_timeout', 'timeoutAt', false],
];

/**
 * Partial indexes on `ledger_transfers` for the columns most rows leave NULL: `pendingId` (NULL on every pending and
 * single transfer), `idempotencyKey` (NULL on posts/voids) and `timeoutAt` (NULL but on expiring holds). A row that
 * is NULL there is no longer written into those indexes (fewer B-tree inserts per transfer, the ledger's hot path),
 * and every lookup stays indexed: `col = ?` implies `col IS NOT NULL` for both planners (SQLite "The Partial Index"
 * docs section 2.1; PostgreSQL "Partial Indexes"), and the expiry scan filters `"timeoutAt" IS NOT NULL` itself.
 * Uniqueness is unchanged: NULLs were never duplicates. SQLite and PostgreSQL.
 */
export class LedgerPartialIndexes1764700000001 implements MigrationInterface {
  name = 'LedgerPartialIndexes1764700000001';

  async up(q: QueryRunner): Promise<void> {
    for (const [name, column, unique] of PARTIAL) {
      await q.query(`DROP INDEX "${name}"`);
      const cols = name === 'IDX_ledger_transfers_timeout' ? '"kind", "timeoutAt"' : `"${column}"`;
      await q.query(`CREATE ${unique ? 'UNIQUE ' : ''}INDEX "${name}" ON ledger_transfers (${cols}) WHERE "${column}" IS NOT NULL`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name, column, unique] of PARTIAL) {
      await q.query(`DROP INDEX "${name}"`);
      const cols = name === 'IDX_ledger_transfers_timeout' ? '"kind", "timeoutAt"' : `"${column}"`;
      await q.query(`CREATE ${unique ? 'UNIQUE ' : ''}INDEX "${name}" ON ledger_transfers (${cols})`);
    }
  }
}
