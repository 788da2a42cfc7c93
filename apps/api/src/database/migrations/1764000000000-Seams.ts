import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { toEnvelope, type RawEventRow } from '../../event-log/event-log.sql';
import { chainHash, GENESIS_HASH } from '../../event-log/hash-chain/event-hash';

/** Rows hashed per query while back-filling the chain of an existing log. */
const BACKFILL_PAGE = 2000;

/**
 * Seams (ADR 0008, 0009): `event_log.hash` (tamper-evident chain, back-filled in seq order for existing rows),
 * `meta.chain_base_hash`, and `event_consumers` (durable consumers' cursors and leases). Dialect-neutral.
 */
export class Seams1764000000000 implements MigrationInterface {
  name = 'Seams1764000000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const p = (i: number) => (pg ? `$${i}` : '?');
    await q.query('ALTER TABLE event_log ADD COLUMN hash varchar(64)');
    await q.query(`INSERT INTO meta (${q.connection.driver.escape('key')}, value) VALUES ('chain_base_hash', '${GENESIS_HASH}')`);
    let prev = GENESIS_HASH;
    let after = 0;
    for (;;) {
      const rows: RawEventRow[] = await q.query(
        `SELECT * FROM event_log WHERE seq > ${p(1)} ORDER BY seq ASC LIMIT ${BACKFILL_PAGE}`,
        [after],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        prev = chainHash(prev, toEnvelope(row));
        await q.query(`UPDATE event_log SET hash = ${p(1)} WHERE seq = ${p(2)}`, [prev, row.seq]);
      }
      after = Number(rows[rows.length - 1].seq);
    }
    await q.createTable(
      new Table({
        name: 'event_consumers',
        columns: [
          { name: 'name', type: 'varchar', length: '100', isPrimary: true },
          { name: 'cursor', type: pg ? 'bigint' : 'integer', isNullable: false, default: 0 },
          { name: 'leaseOwner', type: 'varchar', length: '64', isNullable: true },
          { name: 'leaseUntil', type: 'varchar', length: '30', isNullable: true },
          { name: 'updatedAt', type: 'varchar', length: '30', isNullable: false },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('event_consumers');
    await q.query(`DELETE FROM meta WHERE ${q.connection.driver.escape('key')} = 'chain_base_hash'`);
    await q.dropColumn('event_log', 'hash');
  }
}
