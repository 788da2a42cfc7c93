import { MigrationInterface, QueryRunner } from 'typeorm';

/** Columns whose changes move a transaction between (account, type, status) totals. */
const WATCHED = '"accountId", type, status, "amountMsat", "feeMsat", "maxFeeMsat"';

/**
 * Maintained totals of the ADR-018 view (issue 8: "a balance read is O(1)"): `ledger_tx_totals` holds, per
 * (accountId, type, status), the count and the sums of amountMsat, feeMsat and maxFeeMsat of `ledger_transactions`.
 * Triggers on `ledger_transactions` (after insert, update of the watched columns, delete) keep it in step inside the
 * writing transaction, whatever code path writes, so the balance formula reads a few rows instead of grouping every
 * transaction (2.5 s at 1,000,000 rows before). Existing rows are summed in once. SQLite and PostgreSQL (plpgsql).
 */
export class LedgerTxTotals1764700000000 implements MigrationInterface {
  name = 'LedgerTxTotals1764700000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    await q.query(`CREATE TABLE ledger_tx_totals (
      "accountId" varchar(80) NOT NULL,
      type varchar(10) NOT NULL,
      status varchar(10) NOT NULL,
      count bigint NOT NULL DEFAULT 0,
      "amountMsat" bigint NOT NULL DEFAULT 0,
      "feeMsat" bigint NOT NULL DEFAULT 0,
      "maxFeeMsat" bigint NOT NULL DEFAULT 0,
      PRIMARY KEY ("accountId", type, status)
    )`);
    await q.query(`INSERT INTO ledger_tx_totals ("accountId", type, status, count, "amountMsat", "feeMsat", "maxFeeMsat")
      SELECT "accountId", type, status, COUNT(*), SUM("amountMsat"), SUM("feeMsat"), SUM("maxFeeMsat") FROM ledger_transactions
      GROUP BY "accountId", type, status`);
    const add = (row: 'NEW' | 'OLD', sign: '+' | '-') => `INSERT INTO ledger_tx_totals ("accountId", type, status, count, "amountMsat", "feeMsat", "maxFeeMsat")
        VALUES (${row}."accountId", ${row}.type, ${row}.status, ${sign}1, ${sign}${row}."amountMsat", ${sign}${row}."feeMsat", ${sign}${row}."maxFeeMsat")
        ON CONFLICT ("accountId", type, status) DO UPDATE SET count = ledger_tx_totals.count + excluded.count,
          "amountMsat" = ledger_tx_totals."amountMsat" + excluded."amountMsat", "feeMsat" = ledger_tx_totals."feeMsat" + excluded."feeMsat",
          "maxFeeMsat" = ledger_tx_totals."maxFeeMsat" + excluded."maxFeeMsat";`;
    if (pg) {
      await q.query(`CREATE FUNCTION ledger_tx_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN ${add('OLD', '-')} END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN ${add('NEW', '+')} END IF;
          RETURN NULL;
        END $$`);
      await q.query(`CREATE TRIGGER ledger_tx_totals_ins AFTER INSERT OR DELETE ON ledger_transactions FOR EACH ROW EXECUTE FUNCTION ledger_tx_totals_apply()`);
      await q.query(`CREATE TRIGGER ledger_tx_totals_upd AFTER UPDATE OF ${WATCHED} ON ledger_transactions FOR EACH ROW EXECUTE FUNCTION ledger_tx_totals_apply()`);
      return;
    }
    await q.query(`CREATE TRIGGER ledger_tx_totals_ins AFTER INSERT ON ledger_transactions BEGIN ${add('NEW', '+')} END`);
    await q.query(`CREATE TRIGGER ledger_tx_totals_del AFTER DELETE ON ledger_transactions BEGIN ${add('OLD', '-')} END`);
    await q.query(`CREATE TRIGGER ledger_tx_totals_upd AFTER UPDATE OF ${WATCHED} ON ledger_transactions BEGIN ${add('OLD', '-')} ${add('NEW', '+')} END`);
  }

  async down(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    if (pg) {
      await q.query('DROP TRIGGER IF EXISTS ledger_tx_totals_ins ON ledger_transactions');
      await q.query('DROP TRIGGER IF EXISTS ledger_tx_totals_upd ON ledger_transactions');
      await q.query('DROP FUNCTION IF EXISTS ledger_tx_totals_apply()');
    } else {
      for (const t of ['ins', 'del', 'upd']) await q.query(`DROP TRIGGER IF EXISTS ledger_tx_totals_${t}`);
    }
    await q.query('DROP TABLE ledger_tx_totals');
  }
}
