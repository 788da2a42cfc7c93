import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { channelForType, isEventType, type EventEnvelope, type NewEvent } from '@app/contracts';
import { DataSource, type QueryRunner } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { findUnstorableText, isUnstorableText } from '../common/http-edge';
import { nowIso } from '../common/time.util';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { eventLogError } from './event-log.errors';
import { INSERT_CHUNK_ROWS, MAX_UNITS_PER_COMMIT, PG_APPEND_LOCK_KEY } from './event-log.constants';
import { SqlDialect } from './event-log.sql';
import type { UnitOfWork, WriteContext, WriteResult } from './event-log.types';
import { chainHash, GENESIS_HASH } from './hash-chain/event-hash';
import { InternalBus } from './internal-bus';

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
  /** Times the unit was re-run after a transient conflict (deadlock / serialization failure). */
  retries?: number;
}

/** Re-runs of a unit that lost a deadlock or a serialization check before its caller sees the error. */
const MAX_CONFLICT_RETRIES = 5;

/**
 * Whether a database error is a transient conflict between concurrent transactions that a re-run resolves:
 * PostgreSQL SQLSTATE 40P01 `deadlock_detected` and 40001 `serialization_failure` (PostgreSQL docs, appendix A and
 * "Serialization Failure Handling": the transaction is to be retried). Several instances writing the same rows (ledger
 * accounts) in group-committed transactions can lock them in different orders.
 */
export function isTransientConflict(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return code === '40P01' || code === '40001';
}

/** Column widths of `event_log` (see the Initial migration); checked up front so PostgreSQL never rejects a group. */
const MAX_SOURCE = 100;
const MAX_ID = 64;
const COLUMNS = ['seq', 'id', 'type', 'source', 'channel', 'taskId', 'agentId', 'data', 'createdAt', 'hash'] as const;

/**
 * The write side of the durable event spine (BRIEF section 4); reads are EventLogReader, pruning EventPruner.
 *
 * - `write(work)` runs a unit of work (state change + `tx.append(...)` events) in a transaction shared with
 *   every other unit queued in the same tick (group commit). Each unit runs under its own SAVEPOINT, so one
 *   failing unit is rolled back and rejected alone. Events get their `seq` at insert; after COMMIT the persisted
 *   envelopes are published on the internal bus as `appended` (never before they are durable).
 * - On PostgreSQL a transaction-level advisory lock taken just before the event insert serialises appends across
 *   instances, so commit order = seq order and no reader can see seq N+1 before N.
 * - Under that lock (SQLite: the single writer) the writer reads the chain head, takes the group's seqs from the
 *   database's counter and stores each row's `hash = sha256(previous hash || canonical row)` (tamper evidence,
 *   ADR 0009), so the chain is computed in seq order on every database and across instances.
 * - All other writes in the product go through `write`, which is also what keeps better-sqlite3's single
 *   connection free of nested transactions.
 */
@Injectable()
export class EventLogWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(EventLogWriter.name);
  private readonly queue: PendingUnit[] = [];
  private scheduled = false;
  private flushing = false;
  private closed = false;
  /** Units waiting out their back-off before a re-run (see `fail`). */
  private retrying = 0;
  private readonly sql: SqlDialect;
  /** SQLite: statements prepared on the connection (savepoints, the event insert; see `sqliteStatement`). */
  private readonly sqliteStatements = new Map<string, { run(...params: unknown[]): unknown }>();
  /**
   * Nested-write guard (a write awaited from inside a unit would deadlock the log). Off when NODE_ENV=production:
   * on Node 20 an AsyncLocalStorage turns on promise hooks for every promise of the process (~0.05-0.1 ms per HTTP
   * request measured); development and the test suites keep it on, so a nested write fails loudly there.
   */
  private readonly unitScope: AsyncLocalStorage<UnitScope> | null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: InternalBus,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.sql = new SqlDialect(dataSource);
    this.unitScope = config.NODE_ENV === 'production' ? null : new AsyncLocalStorage<UnitScope>();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  /** Waits until every queued unit has been committed (or rejected). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing || this.scheduled || this.retrying > 0) {
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
    if (this.closed) return Promise.reject(eventLogError('event-log/closed', 'Event log is shut down', 503));
    if (this.unitScope?.getStore()?.active) {
      return Promise.reject(
        eventLogError(
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
      const unsettled = await this.commitBatch(batch);
      // the shared commit failed (an event insert, a deferred constraint at COMMIT): the units that had not failed
      // alone are retried one transaction each, so only the unit that causes the failure is rejected
      for (const u of unsettled) {
        try {
          await this.commitBatch([u]);
        } catch (err) {
          this.fail(u, err);
        }
      }
    } catch (err) {
      for (const u of batch) this.fail(u, err);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /**
   * Commits `batch` in one transaction (each unit under a SAVEPOINT when there are several, so a unit that throws is
   * rolled back and rejected alone). @returns the units left unsettled because the shared part failed (event insert
   * or COMMIT) while the batch held more than one unit: the caller retries them one by one. A single-unit batch is
   * always settled.
   */
  private async commitBatch(batch: PendingUnit[]): Promise<PendingUnit[]> {
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
            if (!scope.active) throw eventLogError('event-log/unit_closed', 'append called after the unit of work returned', 500);
            events.push(this.prepare(e));
          },
        };
        if (useSavepoints) await this.savepoint(qr, 'SAVEPOINT unit');
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
          if (useSavepoints) await this.savepoint(qr, 'RELEASE SAVEPOINT unit');
          ok.push({ unit, result, events });
        } catch (err) {
          if (useSavepoints) {
            await this.savepoint(qr, 'ROLLBACK TO SAVEPOINT unit');
            await this.savepoint(qr, 'RELEASE SAVEPOINT unit');
            this.fail(unit, err);
          } else {
            throw err;
          }
        }
      }
      const all = ok.flatMap((o) => o.events);
      let persisted: EventEnvelope[] = [];
      if (all.length > 0) {
        if (this.sql.isPg) await qr.query('SELECT pg_advisory_xact_lock($1)', [PG_APPEND_LOCK_KEY]);
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
      if (batch.length > 1 && ok.length > 0) return ok.map((o) => o.unit);
      for (const o of ok) this.fail(o.unit, err);
      // a unit that threw without savepoints (a single-unit batch) was not in `ok`: the caller rejects it
      if (ok.length !== batch.length) throw err;
    } finally {
      await qr.release();
    }
    return [];
  }

  /**
   * Rejects a unit, or, when it lost a transient conflict (isTransientConflict) and has re-runs left, queues it again
   * after a short random back-off (5-25 ms x attempt) in a fresh transaction; its rolled-back changes and events are
   * redone from scratch, so a unit of work must not have effects outside its transaction.
   */
  private fail(u: PendingUnit, err: unknown): void {
    const retries = u.retries ?? 0;
    if (!isTransientConflict(err) || retries >= MAX_CONFLICT_RETRIES || this.closed) {
      u.reject(err);
      return;
    }
    u.retries = retries + 1;
    this.retrying++;
    setTimeout(
      () => {
        this.retrying--;
        this.queue.push(u);
        this.schedule();
      },
      (5 + Math.random() * 20) * u.retries,
    );
  }

  /**
   * Runs a savepoint statement of the unit loop. One name for every unit (each is released before the next starts),
   * so each statement is prepared once. SQLite: straight on the better-sqlite3 connection (the one TypeORM's
   * transaction is on), skipping the query runner's per-call promise, logger and broadcast: two of these per unit
   * were ~15 % of a group commit of small ledger units.
   */
  private savepoint(qr: QueryRunner, sql: 'SAVEPOINT unit' | 'RELEASE SAVEPOINT unit' | 'ROLLBACK TO SAVEPOINT unit'): Promise<unknown> | void {
    if (this.sql.isPg) return qr.query(sql);
    this.sqliteStatement(sql).run();
  }

  /** SQLite: `sql` prepared once on the better-sqlite3 connection (the one TypeORM's transaction is on). */
  private sqliteStatement(sql: string): { run(...params: unknown[]): unknown } {
    let st = this.sqliteStatements.get(sql);
    if (!st) {
      const db = (this.dataSource.driver as unknown as { databaseConnection: { prepare(sql: string): { run(...params: unknown[]): unknown } } }).databaseConnection;
      this.sqliteStatements.set(sql, (st = db.prepare(sql)));
    }
    return st;
  }

  private publish(events: EventEnvelope[]): void {
    this.bus.emit('appended', events, (err) => this.logger.error(`listener failed on appended: ${(err as Error).message}`));
  }

  /**
   * The head of the chain, read inside the transaction after the append lock: the newest row's seq and hash, or,
   * when retention removed every row, the last pruned seq and the hash recorded for it (`meta.chain_base_hash`).
   */
  private async chainHead(qr: QueryRunner): Promise<{ seq: number; hash: string }> {
    const rows: { seq: number | string; hash: string | null }[] = await qr.query(
      'SELECT seq, hash FROM event_log ORDER BY seq DESC LIMIT 1',
    );
    if (rows.length > 0) return { seq: Number(rows[0].seq), hash: rows[0].hash ?? GENESIS_HASH };
    const meta: { key: string; value: string }[] = await qr.query(
      `SELECT ${this.sql.q('key')} AS ${this.sql.q('key')}, value FROM meta WHERE ${this.sql.q('key')} IN ('pruned_through_seq', 'chain_base_hash')`,
    );
    const get = (k: string) => meta.find((m) => m.key === k)?.value;
    return { seq: Number(get('pruned_through_seq') ?? 0), hash: get('chain_base_hash') ?? GENESIS_HASH };
  }

  /**
   * Takes `n` seqs, increasing, from the database's own counter (so a seq is never reused, even after rows were
   * deleted by hand): PostgreSQL's sequence of `event_log.seq`, SQLite's AUTOINCREMENT high-water mark. Runs under
   * the append lock (PostgreSQL) / the single writer (SQLite), so the seqs of one group follow every committed one.
   */
  private async takeSeqs(qr: QueryRunner, n: number): Promise<number[]> {
    if (this.sql.isPg) {
      const rows: { s: string | number }[] = await qr.query(
        `SELECT nextval(pg_get_serial_sequence('event_log', 'seq')) AS s FROM generate_series(1, $1) ORDER BY s`,
        [n],
      );
      return rows.map((r) => Number(r.s));
    }
    const rows: { s: number | null }[] = await qr.query(
      `SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'event_log'), 0), COALESCE((SELECT MAX(seq) FROM event_log), 0)) AS s`,
    );
    const base = Number(rows[0]?.s ?? 0);
    return Array.from({ length: n }, (_, i) => base + i + 1);
  }

  private async insertEvents(qr: QueryRunner, events: PreparedEvent[]): Promise<EventEnvelope[]> {
    const head = await this.chainHead(qr);
    const seqs = await this.takeSeqs(qr, events.length);
    let prev = head.hash;
    const createdAt = nowIso();
    const rows = events.map(({ event: e, json: data }, i) => {
      const envelope = {
        seq: seqs[i],
        // UUIDv7 (RFC 9562): time-ordered, so the unique index on id grows at its right edge, not at random pages
        id: uuidv7(),
        type: e.type,
        source: e.source,
        channel: channelForType(e.type),
        taskId: e.taskId ?? null,
        agentId: e.agentId ?? null,
        data: JSON.parse(data) as Record<string, unknown>,
        createdAt,
      } as EventEnvelope;
      const hash = chainHash(prev, envelope);
      prev = hash;
      return { envelope, json: data, hash };
    });
    const cols = COLUMNS.map((c) => this.sql.q(c)).join(', ');
    if (!this.sql.isPg) {
      // SQLite: one prepared single-row INSERT run per row, straight on the connection of the transaction (a
      // multi-row INSERT has a new text, to parse and plan, for every group size)
      const st = this.sqliteStatement(`INSERT INTO event_log (${cols}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
      for (const { envelope: r, json, hash } of rows) st.run(r.seq, r.id, r.type, r.source, r.channel, r.taskId, r.agentId, json, r.createdAt, hash);
      return rows.map((r) => r.envelope);
    }
    for (let start = 0; start < rows.length; start += INSERT_CHUNK_ROWS) {
      const chunk = rows.slice(start, start + INSERT_CHUNK_ROWS);
      const params: unknown[] = [];
      const tuples = chunk.map(({ envelope: r, json, hash }) => {
        const base = params.length;
        params.push(r.seq, r.id, r.type, r.source, r.channel, r.taskId, r.agentId, json, r.createdAt, hash);
        return `(${COLUMNS.map((_, k) => this.sql.param(base + k + 1)).join(', ')})`;
      });
      await qr.query(`INSERT INTO event_log (${cols}) VALUES ${tuples.join(', ')}`, params);
    }
    return rows.map((r) => r.envelope);
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Validates one event and serialises its data (a plain object; `{}` when absent).
   * @throws AppError `event-log/invalid_event` (400) naming what is wrong.
   */
  private prepare(e: NewEvent): PreparedEvent {
    const bad = (msg: string) => eventLogError('event-log/invalid_event', msg, 400);
    if (!e || typeof e !== 'object') throw bad('Event must be an object');
    if (!isEventType(e.type)) throw bad(`Unknown event type "${String((e as { type?: unknown }).type)}"`);
    if (typeof e.source !== 'string' || e.source.length === 0 || e.source.length > MAX_SOURCE || isUnstorableText(e.source)) {
      throw bad(`Event source must be a string of 1-${MAX_SOURCE} characters (no NUL, no unpaired surrogate)`);
    }
    for (const key of ['taskId', 'agentId'] as const) {
      const v = e[key];
      if (v !== undefined && v !== null && (typeof v !== 'string' || v.length > MAX_ID || isUnstorableText(v))) {
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
    // NUL and unpaired surrogates: PostgreSQL's jsonb refuses them, and they are refused on SQLite too (one log, one
    // rule). JSON.stringify writes both as \u escapes, so only data with a `\u` in its JSON needs the walk.
    if (json.includes('\\u')) {
      const where = findUnstorableText(data);
      if (where) throw bad(`Event data ${where.replace(/^\$/, 'data')} holds a NUL character or an unpaired UTF-16 surrogate`);
    }
    return { event: e, json };
  }

}
