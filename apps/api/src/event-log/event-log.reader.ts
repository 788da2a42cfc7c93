import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EventEnvelope, EventSummary } from '@app/contracts';
import { DataSource } from 'typeorm';
import { eventLogError } from './event-log.errors';
import { SqlDialect, toEnvelope, toStoredIso, type RawEventRow } from './event-log.sql';
import type { EventFilter } from './event-log.types';

/** Shortest task id prefix resolved to a full id (shorter ones match exactly). */
export const MIN_TASK_PREFIX = 4;
/** Length of a full task id (uuid). */
const FULL_TASK_ID_LENGTH = 36;

/**
 * The read side of the event spine: head seq, epoch, one event, filtered pages, streaming iteration, summaries.
 * Every read goes to the database (never to a cache of this instance), so any instance answers the same.
 */
/** Bytes of event data one page of `iterate` may hold (exports, replays, the log tail): 1 MB. */
export const PAGE_MAX_BYTES = 1_000_000;
/** Bytes of event data one REST page (`GET /api/events`) may carry: 4 MB; `nextCursor` continues it. */
export const REST_PAGE_MAX_BYTES = 4_000_000;
/** Estimate of a row's size besides `data` (ids, type, source, timestamps, hash), in bytes. */
const ROW_OVERHEAD_BYTES = 300;

@Injectable()
export class EventLogReader implements OnModuleInit {
  private readonly sql: SqlDialect;
  private epochValue = '';

  constructor(private readonly dataSource: DataSource) {
    this.sql = new SqlDialect(dataSource);
  }

  async onModuleInit(): Promise<void> {
    this.epochValue = await this.readMeta('epoch');
  }

  /** The random id of this database's log (`meta.epoch`); changes only if the log is reset. */
  get epoch(): string {
    return this.epochValue;
  }

// ---------------------------------------------------------------- reads

  /**
   * Highest committed seq (0 for a log that never had an event; after retention pruned everything, the last pruned
   * seq). Read it before a snapshot so live frames can be merged.
   */
  async getHeadSeq(): Promise<number> {
    // after retention removed every event, the head is still the last seq ever committed (never back to 0)
    const rows: { head: number | string | null; pruned: string | null }[] = await this.dataSource.query(
      `SELECT (SELECT MAX(seq) FROM event_log) AS head, (SELECT value FROM meta WHERE ${this.sql.q('key')} = 'pruned_through_seq') AS pruned`,
    );
    return Math.max(Number(rows[0]?.head ?? 0), Number(rows[0]?.pruned ?? 0));
  }

  /** Highest seq removed by retention (0 if nothing was pruned). A cursor below it has a gap. */
  async getPrunedThroughSeq(): Promise<number> {
    return Number(await this.readMeta('pruned_through_seq'));
  }

  /** One event by its uuid. @throws AppError `event-log/not_found` (404). */
  async getById(id: string): Promise<EventEnvelope> {
    const rows: RawEventRow[] = await this.dataSource.query(
      `SELECT * FROM event_log WHERE id = ${this.sql.param(1)}`,
      [id],
    );
    if (rows.length === 0) throw eventLogError('event-log/not_found', `Event ${id} not found`, 404);
    return toEnvelope(rows[0]);
  }

  /**
   * Events matching `filter`, newest first (or oldest first when `filter.after` is set and `before` is not),
   * at most `limit` (1..5000).
   */
  async find(filter: EventFilter, limit: number, order?: 'asc' | 'desc'): Promise<EventEnvelope[]> {
    const { where, params } = this.buildWhere(filter);
    const dir = order ?? (filter.after !== undefined && filter.before === undefined ? 'asc' : 'desc');
    const rows: RawEventRow[] = await this.dataSource.query(
      `SELECT * FROM event_log ${where} ORDER BY seq ${dir.toUpperCase()} LIMIT ${Math.max(1, Math.min(5000, Math.floor(limit)))}`,
      params,
    );
    return rows.map((r) => toEnvelope(r));
  }

  /** Number of events matching `filter`. */
  async count(filter: EventFilter): Promise<number> {
    const { where, params } = this.buildWhere(filter);
    const rows: { n: number | string }[] = await this.dataSource.query(`SELECT COUNT(*) AS n FROM event_log ${where}`, params);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Like `find`, but the page also stops before its event data passes `maxBytes` (UTF-16 length of the stored JSON,
   * plus ~300 bytes per row for the other columns; the first row is always included, so a page is never empty while
   * rows remain). Two queries: row sizes first (no data read), then exactly the chosen rows by seq range, so a page
   * of large events never holds more than about `maxBytes` in memory. `truncated` says the byte bound cut the page
   * (more rows may follow even though fewer than `limit` came back).
   */
  async findBounded(filter: EventFilter, limit: number, maxBytes: number, order?: 'asc' | 'desc'): Promise<{ items: EventEnvelope[]; truncated: boolean }> {
    const { where, params } = this.buildWhere(filter);
    const dir = order ?? (filter.after !== undefined && filter.before === undefined ? 'asc' : 'desc');
    const lim = Math.max(1, Math.min(5000, Math.floor(limit)));
    const size = this.sql.isPg ? 'octet_length(data::text)' : 'length(data)';
    const sizes: { seq: number | string; n: number | string | null }[] = await this.dataSource.query(
      `SELECT seq, ${size} AS n FROM event_log ${where} ORDER BY seq ${dir.toUpperCase()} LIMIT ${lim}`,
      params,
    );
    if (sizes.length === 0) return { items: [], truncated: false };
    let k = 0;
    let bytes = 0;
    for (; k < sizes.length; k++) {
      const n = Number(sizes[k].n ?? 0) + ROW_OVERHEAD_BYTES;
      if (k > 0 && bytes + n > maxBytes) break;
      bytes += n;
    }
    const first = Number(sizes[0].seq);
    const last = Number(sizes[k - 1].seq);
    const [lo, hi] = dir === 'asc' ? [first, last] : [last, first];
    const range: EventFilter = {
      ...filter,
      after: Math.max(filter.after ?? lo - 1, lo - 1),
      before: Math.min(filter.before ?? hi + 1, hi + 1),
    };
    const items = await this.find(range, k, dir);
    return { items, truncated: k < sizes.length };
  }

  /**
   * Streams every event matching `filter` in seq order, pages of at most `pageSize` rows and about `maxBytes` of
   * event data (`findBounded`), so an export or a replay of large events holds one bounded page at a time.
   */
  async *iterate(filter: EventFilter, pageSize = 1000, maxBytes = PAGE_MAX_BYTES): AsyncGenerator<EventEnvelope> {
    let after = filter.after ?? 0;
    for (;;) {
      const { items, truncated } = await this.findBounded({ ...filter, after }, pageSize, maxBytes, 'asc');
      for (const e of items) yield e;
      if (items.length === 0 || (items.length < pageSize && !truncated)) return;
      after = items[items.length - 1].seq;
    }
  }

  /**
   * Count per event type for createdAt in [from, to) (ISO-8601, any offset; echoed back in UTC), leaving out the
   * `excludeChannels` (what the caller may not read).
   */
  async summary(fromIso: string, toIso: string, excludeChannels: readonly string[] = []): Promise<EventSummary> {
    const from = toStoredIso(fromIso);
    const to = toStoredIso(toIso);
    const headSeq = await this.getHeadSeq();
    const { where, params } = this.buildWhere({ from, to, excludeChannels });
    const rows: { type: string; n: number | string }[] = await this.dataSource.query(
      `SELECT type, COUNT(*) AS n FROM event_log ${where} GROUP BY type ORDER BY n DESC`,
      params,
    );
    const counts: Record<string, number> = {};
    let total = 0;
    for (const r of rows) {
      counts[r.type] = Number(r.n);
      total += Number(r.n);
    }
    return { from, to, counts, total, headSeq };
  }

  /**
   * The full task id a short id (the 8 characters the dashboard shows) stands for: looked up among the tasks' own
   * `task.created` events (type index, one row per task) whose task id starts with `prefix`.
   * @returns `prefix` itself when events carry exactly that task id; else the unique match, or null when `prefix` is
   *   a full id, shorter than 4 characters or matches no task
   * @throws AppError `event-log/ambiguous_task_prefix` (400) when it matches several tasks
   */
  async resolveTaskIdPrefix(prefix: string): Promise<string | null> {
    if (prefix.length < MIN_TASK_PREFIX || prefix.length >= FULL_TASK_ID_LENGTH) return null;
    // an id that exists as typed is that id, even when it is also the start of longer ones (task-2 vs task-20)
    const exact: unknown[] = await this.dataSource.query(
      `SELECT 1 AS x FROM event_log WHERE ${this.sql.q('taskId')} = ${this.sql.param(1)} LIMIT 1`,
      [prefix],
    );
    if (exact.length > 0) return prefix;
    const pattern = prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
    const rows: { taskId: string }[] = await this.dataSource.query(
      `SELECT ${this.sql.q('taskId')} AS ${this.sql.q('taskId')} FROM event_log WHERE type = 'task.created' AND ${this.sql.q('taskId')} LIKE ${this.sql.param(1)} ESCAPE '\\' LIMIT 2`,
      [pattern],
    );
    if (rows.length === 0) return null;
    if (rows.length > 1) {
      throw eventLogError('event-log/ambiguous_task_prefix', `Task id prefix "${prefix}" matches several tasks: type more characters`, 400, { prefix });
    }
    return rows[0].taskId;
  }

  /** A `meta` value. @throws Error when the key is missing (migrations did not run). */
  async readMeta(key: string): Promise<string> {
    const rows: { value: string }[] = await this.dataSource.query(
      `SELECT value FROM meta WHERE ${this.sql.q('key')} = ${this.sql.param(1)}`,
      [key],
    );
    if (rows.length === 0) throw new Error(`meta.${key} is missing: did the migrations run?`);
    return rows[0].value;
  }

  private buildWhere(f: EventFilter): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const q = (c: string) => this.sql.q(c);
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      clauses.push(sql(this.sql.param(params.length)));
    };
    const addList = (col: string, values: readonly string[], not = false) => {
      const ph = values.map((v) => {
        params.push(v);
        return this.sql.param(params.length);
      });
      clauses.push(`${q(col)} ${not ? 'NOT IN' : 'IN'} (${ph.join(', ')})`);
    };
    if (f.types && f.types.length > 0) addList('type', f.types);
    if (f.channels && f.channels.length > 0) addList('channel', f.channels);
    if (f.excludeChannels && f.excludeChannels.length > 0) addList('channel', f.excludeChannels, true);
    if (f.excludeTypes && f.excludeTypes.length > 0) addList('type', f.excludeTypes, true);
    if (f.source !== undefined) add((p) => `source = ${p}`, f.source);
    if (f.agentId !== undefined) add((p) => `${q('agentId')} = ${p}`, f.agentId);
    if (f.taskId !== undefined) add((p) => `${q('taskId')} = ${p}`, f.taskId);
    if (f.from !== undefined) add((p) => `${q('createdAt')} >= ${p}`, toStoredIso(f.from));
    if (f.to !== undefined) add((p) => `${q('createdAt')} < ${p}`, toStoredIso(f.to));
    if (f.after !== undefined) add((p) => `seq > ${p}`, f.after);
    if (f.before !== undefined) add((p) => `seq < ${p}`, f.before);
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }
}
