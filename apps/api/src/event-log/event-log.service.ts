import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { channelForType, EVENT_TYPES, type EventEnvelope, type EventSummary, type NewEvent } from '@app/contracts';
import { DataSource, type QueryRunner } from 'typeorm';
import { AppError } from '../common/app-error';
import { nowIso } from '../common/time.util';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  EVENT_LOG_APPENDED,
  EVENT_LOG_PRUNED,
  INSERT_CHUNK_ROWS,
  MAX_UNITS_PER_COMMIT,
  PG_APPEND_LOCK_KEY,
  PRUNE_CHUNK_ROWS,
} from './event-log.constants';
import type { EventFilter, UnitOfWork, WriteContext, WriteResult } from './event-log.types';

/** A validated event with its `data` already serialised (so a bad payload fails its own unit, not the group). */
interface PreparedEvent {
  event: NewEvent;
  json: string;
}

/** Marks code running inside a unit of work (a nested `write` from there would wait for itself forever). */
interface UnitScope {
  active: boolean;
}

interface PendingUnit {
  work: UnitOfWork<unknown> | null;
  events: PreparedEvent[];
  resolve(value: WriteResult<unknown>): void;
  reject(err: unknown): void;
}

interface RawEventRow {
  seq: number | string;
  id: string;
  type: string;
  source: string;
  channel: string;
  taskId: string | null;
  agentId: string | null;
  data: string | Record<string, unknown>;
  createdAt: string;
}

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

/**
 * Normalises an ISO-8601 instant (any zone offset, or a bare date = UTC midnight) to the stored form
 * `YYYY-MM-DDTHH:mm:ss.sssZ`, so string comparison on `createdAt` compares instants. Unparseable input is
 * returned unchanged (the DTOs reject it before it gets here).
 */
export function toStoredIso(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}
/** Column widths of `event_log` (see the Initial migration); checked up front so PostgreSQL never rejects a group. */
const MAX_SOURCE = 100;
const MAX_ID = 64;
const COLUMNS = ['id', 'type', 'source', 'channel', 'taskId', 'agentId', 'data', 'createdAt'] as const;

/**
 * The durable event spine (BRIEF section 4).
 *
 * - `write(work)` runs a unit of work (state change + `tx.append(...)` events) in a transaction shared with
 *   every other unit queued in the same tick (group commit). Each unit runs under its own SAVEPOINT, so one
 *   failing unit is rolled back and rejected alone. Events get their `seq` at insert; after COMMIT the persisted
 *   envelopes are published on the internal bus as `event-log.appended` (never before they are durable).
 * - On PostgreSQL a transaction-level advisory lock taken just before the event insert serialises appends across
 *   instances, so commit order = seq order and no reader can see seq N+1 before N.
 * - All other writes in the product go through `write`, which is also what keeps better-sqlite3's single
 *   connection free of nested transactions.
 */
@Injectable()
export class EventLogService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventLogService.name);
  private readonly queue: PendingUnit[] = [];
  private scheduled = false;
  private flushing = false;
  private closed = false;
  private epochValue = '';
  private readonly isPg: boolean;
  /**
   * Nested-write guard (a write awaited from inside a unit would deadlock the log). Off when NODE_ENV=production:
   * on Node 20 an AsyncLocalStorage turns on promise hooks for every promise of the process (~0.05-0.1 ms per HTTP
   * request measured); development and the test suites keep it on, so a nested write fails loudly there.
   */
  private readonly unitScope: AsyncLocalStorage<UnitScope> | null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: EventEmitter2,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.isPg = dataSource.options.type === 'postgres';
    this.unitScope = config.NODE_ENV === 'production' ? null : new AsyncLocalStorage<UnitScope>();
  }

  async onModuleInit(): Promise<void> {
    this.epochValue = await this.readMeta('epoch');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  /** The random id of this database's log; changes only if the log is reset. */
  get epoch(): string {
    return this.epochValue;
  }

  /** Waits until every queued unit has been committed (or rejected). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing || this.scheduled) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /**
   * Runs `work` in the next group-committed transaction. Resolves with the work's result after COMMIT.
   * @throws whatever `work` throws (its changes and events are rolled back); AppError `event-log/invalid_event`
   *   (400) for an unknown event type, a `source` that is empty or over 100 chars, a `taskId`/`agentId` over 64
   *   chars, or `data` that is not a plain JSON-serialisable object; AppError `event-log/nested_write` (500) when
   *   called (and so awaited) from inside another unit of work, which would otherwise deadlock the log; AppError
   *   `event-log/closed` (503) after shutdown.
   */
  async write<T>(work: UnitOfWork<T>): Promise<T> {
    return (await this.writeWithEvents(work)).result;
  }

  /** Like `write`, and also returns the unit's persisted events (with seq). */
  writeWithEvents<T>(work: UnitOfWork<T>): Promise<WriteResult<T>> {
    return this.enqueue(work as UnitOfWork<unknown>, []) as Promise<WriteResult<T>>;
  }

  /** Appends events with no state change of their own (same group-commit path). Returns them with their seq. */
  async append(events: NewEvent[]): Promise<EventEnvelope[]> {
    const prepared = events.map((e) => this.prepare(e));
    return (await this.enqueue(null, prepared)).events;
  }

  private enqueue(work: UnitOfWork<unknown> | null, events: PreparedEvent[]): Promise<WriteResult<unknown>> {
    if (this.closed) return Promise.reject(new AppError('event-log/closed', 'Event log is shut down', 503));
    if (this.unitScope?.getStore()?.active) {
      return Promise.reject(
        new AppError(
          'event-log/nested_write',
          'events.write/append called from inside a unit of work: use the unit\'s own manager and append instead',
          500,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ work, events, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    const batch = this.queue.splice(0, MAX_UNITS_PER_COMMIT);
    try {
      await this.commitBatch(batch);
    } catch (err) {
      for (const u of batch) u.reject(err);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async commitBatch(batch: PendingUnit[]): Promise<void> {
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    const ok: { unit: PendingUnit; result: unknown; events: PreparedEvent[] }[] = [];
    try {
      await qr.startTransaction();
      const useSavepoints = batch.some((u) => u.work) && batch.length > 1;
      for (let i = 0; i < batch.length; i++) {
        const unit = batch[i];
        if (!unit.work) {
          ok.push({ unit, result: undefined, events: unit.events });
          continue;
        }
        const events: PreparedEvent[] = [];
        const scope: UnitScope = { active: true };
        const ctx: WriteContext = {
          manager: qr.manager,
          append: (e) => {
            if (!scope.active) throw new AppError('event-log/unit_closed', 'append called after the unit of work returned', 500);
            events.push(this.prepare(e));
          },
        };
        if (useSavepoints) await qr.query(`SAVEPOINT u${i}`);
        try {
          const work = unit.work;
          const body = async () => {
            try {
              return await work(ctx);
            } finally {
              scope.active = false;
            }
          };
          const result = await (this.unitScope ? this.unitScope.run(scope, body) : body());
          if (useSavepoints) await qr.query(`RELEASE SAVEPOINT u${i}`);
          ok.push({ unit, result, events });
        } catch (err) {
          if (useSavepoints) {
            await qr.query(`ROLLBACK TO SAVEPOINT u${i}`);
            await qr.query(`RELEASE SAVEPOINT u${i}`);
            unit.reject(err);
          } else {
            throw err;
          }
        }
      }
      const all = ok.flatMap((o) => o.events);
      let persisted: EventEnvelope[] = [];
      if (all.length > 0) {
        if (this.isPg) await qr.query('SELECT pg_advisory_xact_lock($1)', [PG_APPEND_LOCK_KEY]);
        persisted = await this.insertEvents(qr, all);
      }
      await qr.commitTransaction();
      let offset = 0;
      for (const o of ok) {
        const mine = persisted.slice(offset, offset + o.events.length);
        offset += o.events.length;
        o.unit.resolve({ result: o.result, events: mine });
      }
      if (persisted.length > 0) this.publish(persisted);
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      for (const o of ok) o.unit.reject(err);
      // units that threw without savepoints were not in `ok`: the caller rejects the whole batch
      if (ok.length !== batch.length) throw err;
    } finally {
      await qr.release();
    }
  }

  private publish(events: EventEnvelope[]): void {
    try {
      this.bus.emit(EVENT_LOG_APPENDED, events);
    } catch (err) {
      this.logger.error(`listener failed on ${EVENT_LOG_APPENDED}: ${(err as Error).message}`);
    }
  }

  private async insertEvents(qr: QueryRunner, events: PreparedEvent[]): Promise<EventEnvelope[]> {
    const json = new Map<string, string>();
    const rows: EventEnvelope[] = events.map(({ event: e, json: data }) => {
      const id = randomUUID();
      json.set(id, data);
      return {
        seq: 0,
        id,
        type: e.type,
        source: e.source,
        channel: channelForType(e.type),
        taskId: e.taskId ?? null,
        agentId: e.agentId ?? null,
        data: JSON.parse(data) as Record<string, unknown>,
        createdAt: nowIso(),
      };
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const cols = COLUMNS.map((c) => this.q(c)).join(', ');
    for (let start = 0; start < rows.length; start += INSERT_CHUNK_ROWS) {
      const chunk = rows.slice(start, start + INSERT_CHUNK_ROWS);
      const params: unknown[] = [];
      const tuples = chunk.map((r) => {
        const base = params.length;
        params.push(r.id, r.type, r.source, r.channel, r.taskId, r.agentId, json.get(r.id), r.createdAt);
        return `(${COLUMNS.map((_, i) => this.param(base + i + 1)).join(', ')})`;
      });
      const returned: { seq: number | string; id: string }[] = await qr.query(
        `INSERT INTO event_log (${cols}) VALUES ${tuples.join(', ')} RETURNING seq, id`,
        params,
      );
      for (const r of returned) byId.get(r.id)!.seq = Number(r.seq);
    }
    rows.sort((a, b) => a.seq - b.seq);
    return rows;
  }

  // ---------------------------------------------------------------- reads

  /**
   * Highest committed seq (0 for a log that never had an event; after retention pruned everything, the last pruned
   * seq). Read it before a snapshot so live frames can be merged.
   */
  async getHeadSeq(): Promise<number> {
    // after retention removed every event, the head is still the last seq ever committed (never back to 0)
    const rows: { head: number | string | null; pruned: string | null }[] = await this.dataSource.query(
      `SELECT (SELECT MAX(seq) FROM event_log) AS head, (SELECT value FROM meta WHERE ${this.q('key')} = 'pruned_through_seq') AS pruned`,
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
      `SELECT * FROM event_log WHERE id = ${this.param(1)}`,
      [id],
    );
    if (rows.length === 0) throw AppError.notFound('event-log/not_found', `Event ${id} not found`);
    return this.toEnvelope(rows[0]);
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
    return rows.map((r) => this.toEnvelope(r));
  }

  /** Number of events matching `filter`. */
  async count(filter: EventFilter): Promise<number> {
    const { where, params } = this.buildWhere(filter);
    const rows: { n: number | string }[] = await this.dataSource.query(`SELECT COUNT(*) AS n FROM event_log ${where}`, params);
    return Number(rows[0]?.n ?? 0);
  }

  /** Streams every event matching `filter` in seq order, `pageSize` rows per query. */
  async *iterate(filter: EventFilter, pageSize = 1000): AsyncGenerator<EventEnvelope> {
    let after = filter.after ?? 0;
    for (;;) {
      const page = await this.find({ ...filter, after }, pageSize, 'asc');
      for (const e of page) yield e;
      if (page.length < pageSize) return;
      after = page[page.length - 1].seq;
    }
  }

  /** Count per event type for createdAt in [from, to) (ISO-8601, any offset; echoed back in UTC). */
  async summary(fromIso: string, toIso: string): Promise<EventSummary> {
    const from = toStoredIso(fromIso);
    const to = toStoredIso(toIso);
    const headSeq = await this.getHeadSeq();
    const rows: { type: string; n: number | string }[] = await this.dataSource.query(
      `SELECT type, COUNT(*) AS n FROM event_log WHERE ${this.q('createdAt')} >= ${this.param(1)} AND ${this.q('createdAt')} < ${this.param(2)} GROUP BY type ORDER BY n DESC`,
      [from, to],
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
   * Deletes events created before `cutoffIso` (any ISO-8601 form) and records the highest deleted seq in
   * `meta.pruned_through_seq`, so a subscriber with an older cursor gets an explicit gap. Only a prefix of the log
   * is ever removed: rows below the first event that is still young enough (never an event newer than the
   * cutoff, even when clocks of several instances disagree). Works in chunks of `PRUNE_CHUNK_ROWS` seqs, one
   * group-committed unit each, so writers are never blocked behind one huge DELETE.
   * Returns the number of rows deleted; publishes `event-log.pruned` `{ prunedThroughSeq }` when it deleted any.
   */
  async prune(cutoffIso: string): Promise<number> {
    const cutoff = toStoredIso(cutoffIso);
    const created = this.q('createdAt');
    // One statement, one snapshot: the first young event, and the newest old one. Rows committed after it get higher
    // seqs (seq order = commit order), so they are never inside the range computed here.
    const edges: { kept: number | string | null; old: number | string | null }[] = await this.dataSource.query(
      `SELECT (SELECT MIN(seq) FROM event_log WHERE ${created} >= ${this.param(1)}) AS kept,
              (SELECT MAX(seq) FROM event_log WHERE ${created} < ${this.param(2)}) AS old`,
      [cutoff, cutoff],
    );
    const { kept, old } = edges[0] ?? { kept: null, old: null };
    if (old === null || old === undefined) return 0;
    // exclusive upper bound of the prefix to delete: below the first kept event, or just past the newest old one
    const bound = kept !== null && kept !== undefined ? Number(kept) : Number(old) + 1;
    let total = 0;
    let prunedThrough = 0;
    for (;;) {
      const step = await this.write(async ({ manager }) => {
        const lo: { s: number | string | null }[] = await manager.query(
          `SELECT MIN(seq) AS s FROM event_log WHERE seq < ${this.param(1)}`,
          [bound],
        );
        if (lo[0]?.s === null || lo[0]?.s === undefined) return null;
        const end = Math.min(bound - 1, Number(lo[0].s) + PRUNE_CHUNK_ROWS - 1);
        const stats: { maxSeq: number | string | null; n: number | string }[] = await manager.query(
          `SELECT MAX(seq) AS ${this.q('maxSeq')}, COUNT(*) AS n FROM event_log WHERE seq <= ${this.param(1)}`,
          [end],
        );
        const maxSeq = Number(stats[0]?.maxSeq ?? 0);
        const n = Number(stats[0]?.n ?? 0);
        await manager.query(`DELETE FROM event_log WHERE seq <= ${this.param(1)}`, [end]);
        await manager.query(
          `UPDATE meta SET value = ${this.param(1)} WHERE ${this.q('key')} = 'pruned_through_seq' AND CAST(value AS ${this.isPg ? 'bigint' : 'integer'}) < ${this.param(2)}`,
          [String(maxSeq), maxSeq],
        );
        return { n, maxSeq };
      });
      if (!step) break;
      total += step.n;
      prunedThrough = Math.max(prunedThrough, step.maxSeq);
    }
    if (total > 0) this.bus.emit(EVENT_LOG_PRUNED, { prunedThroughSeq: prunedThrough });
    return total;
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Validates one event and serialises its data (a plain object; `{}` when absent).
   * @throws AppError `event-log/invalid_event` (400) naming what is wrong.
   */
  private prepare(e: NewEvent): PreparedEvent {
    const bad = (msg: string) => new AppError('event-log/invalid_event', msg, 400);
    if (!e || typeof e !== 'object') throw bad('Event must be an object');
    if (!KNOWN_TYPES.has(e.type)) throw bad(`Unknown event type "${String(e.type)}"`);
    if (typeof e.source !== 'string' || e.source.length === 0 || e.source.length > MAX_SOURCE) {
      throw bad(`Event source must be a string of 1-${MAX_SOURCE} characters`);
    }
    for (const key of ['taskId', 'agentId'] as const) {
      const v = e[key];
      if (v !== undefined && v !== null && (typeof v !== 'string' || v.length > MAX_ID)) {
        throw bad(`Event ${key} must be null or a string of at most ${MAX_ID} characters`);
      }
    }
    const data = e.data ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw bad('Event data must be a JSON object');
    let json: string;
    try {
      json = JSON.stringify(data);
    } catch (err) {
      throw bad(`Event data is not serialisable as JSON: ${(err as Error).message}`);
    }
    return { event: e, json };
  }

  private async readMeta(key: string): Promise<string> {
    const rows: { value: string }[] = await this.dataSource.query(
      `SELECT value FROM meta WHERE ${this.q('key')} = ${this.param(1)}`,
      [key],
    );
    if (rows.length === 0) throw new Error(`meta.${key} is missing: did the migrations run?`);
    return rows[0].value;
  }

  private buildWhere(f: EventFilter): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      clauses.push(sql(this.param(params.length)));
    };
    const addList = (col: string, values: readonly string[], not = false) => {
      const ph = values.map((v) => {
        params.push(v);
        return this.param(params.length);
      });
      clauses.push(`${this.q(col)} ${not ? 'NOT IN' : 'IN'} (${ph.join(', ')})`);
    };
    if (f.types && f.types.length > 0) addList('type', f.types);
    if (f.channels && f.channels.length > 0) addList('channel', f.channels);
    if (f.excludeChannels && f.excludeChannels.length > 0) addList('channel', f.excludeChannels, true);
    if (f.source !== undefined) add((p) => `source = ${p}`, f.source);
    if (f.agentId !== undefined) add((p) => `${this.q('agentId')} = ${p}`, f.agentId);
    if (f.taskId !== undefined) add((p) => `${this.q('taskId')} = ${p}`, f.taskId);
    if (f.from !== undefined) add((p) => `${this.q('createdAt')} >= ${p}`, toStoredIso(f.from));
    if (f.to !== undefined) add((p) => `${this.q('createdAt')} < ${p}`, toStoredIso(f.to));
    if (f.after !== undefined) add((p) => `seq > ${p}`, f.after);
    if (f.before !== undefined) add((p) => `seq < ${p}`, f.before);
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  private toEnvelope(r: RawEventRow): EventEnvelope {
    return {
      seq: Number(r.seq),
      id: r.id,
      type: r.type as EventEnvelope['type'],
      source: r.source,
      channel: r.channel as EventEnvelope['channel'],
      taskId: r.taskId,
      agentId: r.agentId,
      data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data,
      createdAt: r.createdAt,
    };
  }

  private q(col: string): string {
    return this.isPg ? `"${col}"` : `"${col}"`;
  }

  private param(i: number): string {
    return this.isPg ? `$${i}` : '?';
  }
}
