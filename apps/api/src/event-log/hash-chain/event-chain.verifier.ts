import { Injectable } from '@nestjs/common';
import type { ChainVerification } from '@app/contracts';
import { DataSource } from 'typeorm';
import { SqlDialect, toEnvelope, type RawEventRow } from '../event-log.sql';
import { chainHash, GENESIS_HASH } from './event-hash';

/** Rows read per query while verifying. */
const VERIFY_PAGE_ROWS = 2000;

/**
 * Recomputes the tamper-evident hash chain of `event_log` (ADR 0009) and reports the first row whose stored hash
 * does not match `sha256(previous hash || canonical row)`. An edited row breaks the chain at its own seq; a deleted
 * row breaks it at the next seq. Verification of the whole log starts at the oldest kept row from the hash recorded
 * by retention (`meta.chain_base_hash`, GENESIS_HASH if nothing was pruned); a range starting later trusts the
 * stored hash of the row just before it. Anchor `headHash` elsewhere to detect a rewrite of the whole tail.
 */
@Injectable()
export class EventChainVerifier {
  private readonly sql: SqlDialect;

  constructor(private readonly dataSource: DataSource) {
    this.sql = new SqlDialect(dataSource);
  }

  /** The newest row's seq and hash (`null` hash for an empty log). */
  async head(): Promise<{ seq: number; hash: string | null }> {
    const rows: { seq: number | string; hash: string | null }[] = await this.dataSource.query(
      'SELECT seq, hash FROM event_log ORDER BY seq DESC LIMIT 1',
    );
    if (rows.length > 0) return { seq: Number(rows[0].seq), hash: rows[0].hash };
    const base = await this.base();
    return { seq: base.seq, hash: base.seq > 0 ? base.hash : null };
  }

  /**
   * Verifies rows with `from <= seq <= to` (defaults: the oldest kept row, the head).
   * @param from first seq to check (integer >= 1)
   * @param to last seq to check (integer >= from)
   */
  async verify(from?: number, to?: number): Promise<ChainVerification> {
    const base = await this.base();
    const head = await this.head();
    const start = Math.max(from ?? base.seq + 1, base.seq + 1);
    const end = Math.min(to ?? head.seq, head.seq);
    let prev = base.hash;
    if (start > base.seq + 1) {
      const before: { hash: string | null }[] = await this.dataSource.query(
        `SELECT hash FROM event_log WHERE seq < ${this.sql.param(1)} ORDER BY seq DESC LIMIT 1`,
        [start],
      );
      prev = before[0]?.hash ?? base.hash;
    }
    const result: ChainVerification = {
      ok: true,
      from: start,
      to: end,
      checked: 0,
      baseSeq: base.seq,
      baseHash: base.hash,
      headSeq: head.seq,
      headHash: head.hash,
      firstBreak: null,
    };
    let after = start - 1;
    while (after < end) {
      const rows: RawEventRow[] = await this.dataSource.query(
        `SELECT * FROM event_log WHERE seq > ${this.sql.param(1)} AND seq <= ${this.sql.param(2)} ORDER BY seq ASC LIMIT ${VERIFY_PAGE_ROWS}`,
        [after, end],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const expected = chainHash(prev, toEnvelope(row));
        if (row.hash !== expected) {
          result.ok = false;
          result.firstBreak = { seq: Number(row.seq), expected, actual: row.hash ?? null };
          return result;
        }
        result.checked += 1;
        prev = expected;
      }
      after = Number(rows[rows.length - 1].seq);
    }
    return result;
  }

  private async base(): Promise<{ seq: number; hash: string }> {
    const meta: { key: string; value: string }[] = await this.dataSource.query(
      `SELECT ${this.sql.q('key')} AS ${this.sql.q('key')}, value FROM meta WHERE ${this.sql.q('key')} IN ('pruned_through_seq', 'chain_base_hash')`,
    );
    const get = (k: string) => meta.find((m) => m.key === k)?.value;
    return { seq: Number(get('pruned_through_seq') ?? 0), hash: get('chain_base_hash') ?? GENESIS_HASH };
  }
}
