import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { EventEnvelope, EventType } from '@app/contracts';
import { InstanceRegistry } from '../../cluster/instance-registry';
import { DataSource } from 'typeorm';
import { nowIso } from '../../common/time.util';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { eventLogError } from '../event-log.errors';
import { EventLogReader } from '../event-log.reader';
import { execAffected, SqlDialect } from '../event-log.sql';
import type { WriteContext } from '../event-log.types';
import { EventLogWriter } from '../event-log.writer';
import { InternalBus } from '../internal-bus';

/**
 * A named, durable reader of the event log (BRIEF section 3, "after commit, durably"; ADR 0008).
 *
 * - `handle(events, tx, prepared)` runs inside one group-committed unit of work together with the advance of the
 *   consumer's cursor (`event_consumers.cursor`), so its database effects happen exactly once: if the process dies
 *   before the commit, the batch is delivered again after restart; after the commit, never again.
 * - `prepare(events)` (optional) runs before that unit, outside any transaction, for slow I/O (an embedding call);
 *   it may run more than once for the same events (at-least-once), so it must have no effects of its own.
 * - A function returned by `handle` runs after the commit (fire-and-forget follow-up whose start is already durable,
 *   e.g. executing a task that `handle` marked running).
 */
export interface DurableConsumer<P = undefined> {
  /** Unique, stable name (the cursor's key), e.g. `swarm.personas`; 1-100 characters. */
  name: string;
  /** Event types to deliver; every type when absent. */
  types?: readonly EventType[];
  /** Max events per batch (default 100). */
  batchSize?: number;
  /** Where a consumer that has no cursor yet starts: `head` (default: only events after registration) or `beginning`. */
  startFrom?: 'head' | 'beginning';
  prepare?: (events: EventEnvelope[]) => Promise<P>;
  handle: (events: EventEnvelope[], tx: WriteContext, prepared: P) => Promise<void | (() => void)>;
}

interface ConsumerState {
  consumer: DurableConsumer<unknown>;
  running: boolean;
  again: boolean;
  failures: number;
  retryTimer: NodeJS.Timeout | null;
  types: Set<string> | null;
}

/** How long a lease on a consumer lasts without renewal (ms); another instance may take over after that. */
const LEASE_MS = 15_000;
/** Backoff after a failed batch: doubling from 250 ms up to this (ms). */
const MAX_BACKOFF_MS = 30_000;

/**
 * Runs the registered durable consumers: replays each from its stored cursor at boot, then feeds it live (woken by
 * this instance's commits and by a periodic poll, `CONSUMER_POLL_MS`, for commits of other instances). One instance
 * runs a given consumer at a time (a lease row); the cursor advance is a compare-and-set in the consumer's own unit
 * of work, so even two runners could not apply a batch twice.
 */
@Injectable()
export class EventConsumersService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventConsumers');
  private readonly states = new Map<string, ConsumerState>();
  private readonly sql: SqlDialect;
  private started = false;
  private stopped = false;
  private poller: NodeJS.Timeout | null = null;
  private offBus: (() => void) | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: EventLogWriter,
    private readonly reader: EventLogReader,
    private readonly bus: InternalBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly instances: InstanceRegistry,
  ) {
    this.sql = new SqlDialect(dataSource);
  }

  /** The lease owner this process writes: its instance id (ADR 0061). */
  private get instanceId(): string {
    return this.instances.id;
  }

  /** A gone instance's consumer leases are released in the reclaim's transaction, so a survivor takes them at once. */
  onModuleInit(): void {
    this.instances.onReclaim('event-consumers', async (tx, goneId) => {
      const held = await tx.manager.query(`SELECT name FROM event_consumers WHERE ${this.sql.q('leaseOwner')} = ${this.sql.param(1)}`, [goneId]);
      if (held.length === 0) return { consumerLeasesReleased: 0 };
      await tx.manager.query(
        `UPDATE event_consumers SET ${this.sql.q('leaseOwner')} = NULL, ${this.sql.q('leaseUntil')} = NULL WHERE ${this.sql.q('leaseOwner')} = ${this.sql.param(1)}`,
        [goneId],
      );
      return { consumerLeasesReleased: held.length };
    });
  }

  /**
   * Registers a consumer (call from `onModuleInit`; it starts at application bootstrap).
   * @throws Error for a duplicate or invalid name.
   */
  register<P>(consumer: DurableConsumer<P>): void {
    if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(consumer.name)) throw new Error(`invalid consumer name "${consumer.name}"`);
    if (this.states.has(consumer.name)) throw new Error(`consumer "${consumer.name}" is registered twice`);
    this.states.set(consumer.name, {
      consumer: consumer as DurableConsumer<unknown>,
      running: false,
      again: false,
      failures: 0,
      retryTimer: null,
      types: consumer.types ? new Set(consumer.types) : null,
    });
    if (this.started) void this.startOne(consumer.name);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.started = true;
    this.offBus = this.bus.on('appended', (events) => this.onAppended(events));
    for (const name of this.states.keys()) await this.startOne(name);
    this.poller = setInterval(() => {
      for (const name of this.states.keys()) this.kick(name);
    }, this.config.CONSUMER_POLL_MS);
    this.poller.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.offBus?.();
    if (this.poller) clearInterval(this.poller);
    for (const s of this.states.values()) if (s.retryTimer) clearTimeout(s.retryTimer);
    const deadline = Date.now() + 10_000;
    while ([...this.states.values()].some((s) => s.running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await this.dataSource
      .query(
        `UPDATE event_consumers SET ${this.sql.q('leaseOwner')} = NULL, ${this.sql.q('leaseUntil')} = NULL WHERE ${this.sql.q('leaseOwner')} = ${this.sql.param(1)}`,
        [this.instanceId],
      )
      .catch(() => undefined);
  }

  /** The stored cursor of a consumer (last seq it committed), or null if it has none yet. */
  async cursor(name: string): Promise<number | null> {
    const rows: { cursor: number | string }[] = await this.dataSource.query(
      `SELECT ${this.sql.q('cursor')} AS ${this.sql.q('cursor')} FROM event_consumers WHERE name = ${this.sql.param(1)}`,
      [name],
    );
    return rows.length > 0 ? Number(rows[0].cursor) : null;
  }

  /** Resolves once every registered consumer has caught up with the head seq read at the call (tests, shutdown). */
  async idle(timeoutMs = 10_000): Promise<void> {
    const head = await this.reader.getHeadSeq();
    const deadline = Date.now() + timeoutMs;
    for (const name of this.states.keys()) {
      for (;;) {
        const s = this.states.get(name)!;
        const c = await this.cursor(name);
        if (c !== null && c >= head && !s.running) break;
        if (!(await this.hasPending(name, c ?? 0, head)) && !s.running) break;
        if (Date.now() > deadline) throw new Error(`consumer ${name} did not catch up with seq ${head} within ${timeoutMs} ms`);
        this.kick(name);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  private async hasPending(name: string, after: number, head: number): Promise<boolean> {
    const s = this.states.get(name)!;
    const page = await this.reader.find({ types: s.consumer.types, after, before: head + 1 }, 1, 'asc');
    return page.length > 0;
  }

  private async startOne(name: string): Promise<void> {
    const s = this.states.get(name)!;
    if ((await this.cursor(name)) === null) {
      const start = s.consumer.startFrom === 'beginning' ? 0 : await this.reader.getHeadSeq();
      // concurrent first starts on several instances: the first insert wins, the others keep its cursor
      await this.dataSource.query(
        `INSERT INTO event_consumers (name, ${this.sql.q('cursor')}, ${this.sql.q('updatedAt')}) VALUES (${this.sql.param(1)}, ${this.sql.param(2)}, ${this.sql.param(3)}) ON CONFLICT (name) DO NOTHING`,
        [name, start, nowIso()],
      );
    }
    this.kick(name);
  }

  private onAppended(events: EventEnvelope[]): void {
    if (this.stopped) return;
    for (const [name, s] of this.states) {
      if (!s.types || events.some((e) => s.types!.has(e.type))) this.kick(name);
    }
  }

  /** Schedules a pump of the consumer (coalesced: one running pump re-runs once more if kicked meanwhile). */
  private kick(name: string): void {
    const s = this.states.get(name);
    if (!s || this.stopped || !this.started || s.retryTimer) return;
    if (s.running) {
      s.again = true;
      return;
    }
    s.running = true;
    setImmediate(() => void this.pump(s));
  }

  private async pump(s: ConsumerState): Promise<void> {
    try {
      do {
        s.again = false;
        if (!(await this.takeLease(s.consumer.name))) return;
        while (!this.stopped && (await this.step(s))) {
          /* drain */
        }
      } while (s.again && !this.stopped);
      s.failures = 0;
    } catch (err) {
      s.failures += 1;
      const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** (s.failures - 1));
      if (!this.stopped) {
        this.logger.error(`consumer ${s.consumer.name} failed (attempt ${s.failures}, retry in ${delay} ms): ${(err as Error).message}`);
        s.retryTimer = setTimeout(() => {
          s.retryTimer = null;
          this.kick(s.consumer.name);
        }, delay);
        s.retryTimer.unref();
      }
    } finally {
      s.running = false;
    }
  }

  /** One batch: read after the cursor, prepare, handle + advance the cursor in one unit. False when caught up. */
  private async step(s: ConsumerState): Promise<boolean> {
    const c = s.consumer;
    const cursor = (await this.cursor(c.name)) ?? 0;
    const batch = await this.reader.find({ types: c.types, after: cursor }, c.batchSize ?? 100, 'asc');
    if (batch.length === 0) return false;
    const prepared = c.prepare ? await c.prepare(batch) : undefined;
    const last = batch[batch.length - 1].seq;
    const after = await this.writer.write(async (tx) => {
      const followUp = await c.handle(batch, tx, prepared);
      const moved = await execAffected(
        tx.manager,
        `UPDATE event_consumers SET ${this.sql.q('cursor')} = ${this.sql.param(1)}, ${this.sql.q('updatedAt')} = ${this.sql.param(2)} WHERE name = ${this.sql.param(3)} AND ${this.sql.q('cursor')} = ${this.sql.param(4)}`,
        [last, nowIso(), c.name, cursor],
      );
      if (moved !== 1) {
        throw eventLogError('event-log/consumer_conflict', `consumer ${c.name}: cursor moved past ${cursor} elsewhere`, 409);
      }
      return followUp;
    });
    if (typeof after === 'function') {
      try {
        after();
      } catch (err) {
        this.logger.error(`consumer ${c.name} follow-up failed: ${(err as Error).message}`);
      }
    }
    return true;
  }

  /** Takes or renews this instance's lease on a consumer; false when another live instance holds it. */
  private async takeLease(name: string): Promise<boolean> {
    const now = nowIso();
    const until = new Date(Date.now() + LEASE_MS).toISOString();
    const q = (c: string) => this.sql.q(c);
    const changed = await execAffected(
      this.dataSource,
      `UPDATE event_consumers SET ${q('leaseOwner')} = ${this.sql.param(1)}, ${q('leaseUntil')} = ${this.sql.param(2)}
       WHERE name = ${this.sql.param(3)} AND (${q('leaseOwner')} IS NULL OR ${q('leaseOwner')} = ${this.sql.param(4)} OR ${q('leaseUntil')} < ${this.sql.param(5)})`,
      [this.instanceId, until, name, this.instanceId, now],
    );
    return changed === 1;
  }
}
