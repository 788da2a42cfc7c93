import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { nowIso } from '../common/time.util';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogWriter } from '../event-log/event-log.writer';
import type { WriteContext } from '../event-log/event-log.types';
import { InstanceEntity } from './instance.entity';

/**
 * Reclaims, inside `tx`, the work a gone instance owned (fail its running tasks, ...). Returns counts by name for the
 * `system.info` event. Runs once per gone instance across the cluster: in the same transaction as the conditional
 * delete of that instance's row.
 */
export type ReclaimHandler = (tx: WriteContext, goneInstanceId: string) => Promise<Record<string, number>>;

/** A lease that has already passed: what a clean shutdown writes so survivors reclaim at once. */
const EXPIRED = '1970-01-01T00:00:00.000Z';

/** True when a process with this pid exists on this host (signal 0 probes without signalling). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Instance leases (ADR 0061; BRIEF section 5: work claimed once, reclaimed only when its owner is gone). Each API
 * process inserts a row in `instances` at module init, renews `leaseUntil` every INSTANCE_HEARTBEAT_MS (lease
 * INSTANCE_LEASE_MS), and on each beat reclaims the work of instances that are gone. An instance is gone when its lease
 * passed, or (without waiting for the lease) when it ran on this host and its pid no longer exists, or when it had
 * this instance's INSTANCE_NAME (a restart under a stable name). Reclaiming deletes the row conditionally (same
 * `leaseUntil` as read, so an instance that renewed meanwhile is not reclaimed) and runs every registered
 * `ReclaimHandler` in that transaction: once across the cluster. A clean shutdown expires its own lease.
 */
@Injectable()
export class InstanceRegistry implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Instances');
  /** This process's id (uuid v4), the `owner` recorded on work it claims (e.g. `tasks.runningOn`). */
  readonly id = randomUUID();
  private readonly host = hostname();
  private readonly handlers = new Map<string, ReclaimHandler>();
  private timer: NodeJS.Timeout | null = null;
  private beat: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Registers what to reclaim when an instance is gone (call from `onModuleInit`).
   * @throws Error when `name` is registered twice.
   */
  onReclaim(name: string, handler: ReclaimHandler): void {
    if (this.handlers.has(name)) throw new Error(`reclaim handler ${name} is registered twice`);
    this.handlers.set(name, handler);
  }

  /** Inserts this instance's row (before any module's bootstrap, so peers booting now see it). */
  async onModuleInit(): Promise<void> {
    await this.insertSelf();
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.beat) return;
      this.beat = this.heartbeat()
        .catch((err: unknown) => {
          if (!this.stopped) this.logger.warn(`instance heartbeat failed: ${(err as Error).message}`);
        })
        .finally(() => (this.beat = null));
    }, this.config.INSTANCE_HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Stops renewing and expires this instance's lease, so survivors reclaim its work without waiting. Never throws. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.beat;
    await this.dataSource
      .getRepository(InstanceEntity)
      .update({ id: this.id }, { leaseUntil: EXPIRED })
      .catch((err: unknown) => this.logger.warn(`could not expire the instance lease: ${(err as Error).message}`));
  }

  /** Other instances that are alive now (see the class comment for "gone"). */
  async liveOthers(nowMs = Date.now()): Promise<InstanceEntity[]> {
    const rows = await this.dataSource.getRepository(InstanceEntity).find();
    return rows.filter((r) => r.id !== this.id && !this.isGone(r, nowMs));
  }

  /**
   * Reclaims the work of every gone instance, each in its own unit of work with a `system.info {message, instanceId,
   * host, pid, reclaimed}` event. Returns how many instances this process reclaimed and the summed counts of the
   * handlers (an instance another survivor reclaimed first is skipped).
   */
  async reclaimGone(nowMs = Date.now()): Promise<{ instancesReclaimed: number; counts: Record<string, number> }> {
    const rows = await this.dataSource.getRepository(InstanceEntity).find();
    const counts: Record<string, number> = {};
    let instancesReclaimed = 0;
    for (const row of rows) {
      if (row.id === this.id || !this.isGone(row, nowMs) || this.stopped) continue;
      const reclaimed = await this.events.write(async (tx) => {
        const res = await tx.manager.delete(InstanceEntity, { id: row.id, leaseUntil: row.leaseUntil });
        if (!res.affected) return null;
        const got: Record<string, number> = {};
        for (const handler of this.handlers.values()) {
          for (const [k, v] of Object.entries(await handler(tx, row.id))) got[k] = (got[k] ?? 0) + v;
        }
        tx.append({
          type: 'system.info',
          source: 'coordinator',
          data: { message: 'instance gone: its work was reclaimed', instanceId: row.id, host: row.host, pid: row.pid, reclaimed: got },
        });
        return got;
      });
      if (!reclaimed) continue;
      instancesReclaimed++;
      for (const [k, v] of Object.entries(reclaimed)) counts[k] = (counts[k] ?? 0) + v;
      this.logger.log(`reclaimed the work of gone instance ${row.id} (${row.host}:${row.pid}): ${JSON.stringify(reclaimed)}`);
    }
    return { instancesReclaimed, counts };
  }

  /**
   * Forgets every other instance's row without reclaiming (a cold start's full recovery already covered their work).
   * Only rows that are gone are removed.
   */
  async forgetGone(nowMs = Date.now()): Promise<number> {
    const rows = await this.dataSource.getRepository(InstanceEntity).find();
    let n = 0;
    for (const row of rows) {
      if (row.id === this.id || !this.isGone(row, nowMs)) continue;
      const res = await this.dataSource.getRepository(InstanceEntity).delete({ id: row.id, leaseUntil: row.leaseUntil });
      n += res.affected ?? 0;
    }
    return n;
  }

  /** One beat: renew the lease (re-inserting the row if a peer reclaimed this instance while it stalled), then reclaim. */
  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    const res = await this.dataSource.getRepository(InstanceEntity).update({ id: this.id }, { leaseUntil: this.leaseUntil() });
    if (!res.affected && !this.stopped) {
      this.logger.warn(`instance ${this.id} was reclaimed by a peer (stalled longer than INSTANCE_LEASE_MS): registering again`);
      await this.insertSelf();
    }
    await this.reclaimGone();
  }

  private async insertSelf(): Promise<void> {
    await this.dataSource.getRepository(InstanceEntity).insert({
      id: this.id,
      host: this.host,
      pid: process.pid,
      name: this.config.INSTANCE_NAME ?? null,
      startedAt: nowIso(),
      leaseUntil: this.leaseUntil(),
    });
  }

  private leaseUntil(): string {
    return new Date(Date.now() + this.config.INSTANCE_LEASE_MS).toISOString();
  }

  private isGone(row: InstanceEntity, nowMs: number): boolean {
    if (row.leaseUntil < new Date(nowMs).toISOString()) return true;
    if (row.host === this.host && row.pid !== process.pid && !pidAlive(row.pid)) return true;
    return !!this.config.INSTANCE_NAME && row.name === this.config.INSTANCE_NAME;
  }
}
