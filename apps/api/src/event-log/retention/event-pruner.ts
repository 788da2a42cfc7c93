import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PRUNE_CHUNK_ROWS } from '../event-log.constants';
import { SqlDialect, toStoredIso } from '../event-log.sql';
import { EventLogWriter } from '../event-log.writer';
import { GENESIS_HASH } from '../hash-chain/event-hash';
import { InternalBus } from '../internal-bus';

/** Removes a prefix of the log older than a cutoff (the retention job's work), keeping cursors and the hash chain honest. */
@Injectable()
export class EventPruner {
  private readonly sql: SqlDialect;

  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: EventLogWriter,
    private readonly bus: InternalBus,
  ) {
    this.sql = new SqlDialect(dataSource);
  }

  /**
   * Deletes events created before `cutoffIso` (any ISO-8601 form) and records the highest deleted seq in
   * `meta.pruned_through_seq`, so a subscriber with an older cursor gets an explicit gap. Only a prefix of the log
   * is ever removed: rows below the first event that is still young enough (never an event newer than the
   * cutoff, even when clocks of several instances disagree). Works in chunks of `PRUNE_CHUNK_ROWS` seqs, one
   * group-committed unit each, so writers are never blocked behind one huge DELETE.
   * Records the hash of the last deleted row in `meta.chain_base_hash` (the chain verification starts there).
   * Returns the number of rows deleted; publishes `pruned` `{ prunedThroughSeq }` on the internal bus when it deleted any.
   */
  async prune(cutoffIso: string): Promise<number> {
    const cutoff = toStoredIso(cutoffIso);
    const created = this.sql.q('createdAt');
    // One statement, one snapshot: the first young event, and the newest old one. Rows committed after it get higher
    // seqs (seq order = commit order), so they are never inside the range computed here.
    const edges: { kept: number | string | null; old: number | string | null }[] = await this.dataSource.query(
      `SELECT (SELECT MIN(seq) FROM event_log WHERE ${created} >= ${this.sql.param(1)}) AS kept,
              (SELECT MAX(seq) FROM event_log WHERE ${created} < ${this.sql.param(2)}) AS old`,
      [cutoff, cutoff],
    );
    const { kept, old } = edges[0] ?? { kept: null, old: null };
    if (old === null || old === undefined) return 0;
    // exclusive upper bound of the prefix to delete: below the first kept event, or just past the newest old one
    const bound = kept !== null && kept !== undefined ? Number(kept) : Number(old) + 1;
    let total = 0;
    let prunedThrough = 0;
    for (;;) {
      const step = await this.writer.write(async ({ manager }) => {
        const lo: { s: number | string | null }[] = await manager.query(
          `SELECT MIN(seq) AS s FROM event_log WHERE seq < ${this.sql.param(1)}`,
          [bound],
        );
        if (lo[0]?.s === null || lo[0]?.s === undefined) return null;
        const end = Math.min(bound - 1, Number(lo[0].s) + PRUNE_CHUNK_ROWS - 1);
        const stats: { maxSeq: number | string | null; n: number | string }[] = await manager.query(
          `SELECT MAX(seq) AS ${this.sql.q('maxSeq')}, COUNT(*) AS n FROM event_log WHERE seq <= ${this.sql.param(1)}`,
          [end],
        );
        const maxSeq = Number(stats[0]?.maxSeq ?? 0);
        const n = Number(stats[0]?.n ?? 0);
        // the chain continues from the last deleted row: record its hash so verification still starts somewhere known
        const last: { hash: string | null }[] = await manager.query(
          `SELECT hash FROM event_log WHERE seq = ${this.sql.param(1)}`,
          [maxSeq],
        );
        await manager.query(`DELETE FROM event_log WHERE seq <= ${this.sql.param(1)}`, [end]);
        await manager.query(
          `UPDATE meta SET value = ${this.sql.param(1)} WHERE ${this.sql.q('key')} = 'chain_base_hash' AND (SELECT CAST(value AS ${this.sql.bigint}) FROM meta WHERE ${this.sql.q('key')} = 'pruned_through_seq') < ${this.sql.param(2)}`,
          [last[0]?.hash ?? GENESIS_HASH, maxSeq],
        );
        await manager.query(
          `UPDATE meta SET value = ${this.sql.param(1)} WHERE ${this.sql.q('key')} = 'pruned_through_seq' AND CAST(value AS ${this.sql.bigint}) < ${this.sql.param(2)}`,
          [String(maxSeq), maxSeq],
        );
        return { n, maxSeq };
      });
      if (!step) break;
      total += step.n;
      prunedThrough = Math.max(prunedThrough, step.maxSeq);
    }
    if (total > 0) this.bus.emit('pruned', { prunedThroughSeq: prunedThrough });
    return total;
  }
}
