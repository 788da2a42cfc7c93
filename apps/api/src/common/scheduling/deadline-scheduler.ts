import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { TimerSet } from './timer-set';

/** A deadline that is due at `dueAtMs` (epoch ms) for the entity `key` of one kind. */
export interface PendingDeadline {
  key: string;
  dueAtMs: number;
}

/**
 * One kind of deadline whose source of truth is a domain table (auction close from `tasks.auctionClosesAt`,
 * question expiry from `operator_questions.deadline`, invoice expiry, upgrade expiry).
 */
export interface DeadlineKind {
  /** Unique name, e.g. `auction.close`. */
  kind: string;
  /** Every deadline still pending in the database (read at boot and on each sweep). */
  listPending(): Promise<PendingDeadline[]>;
  /**
   * Acts on a due deadline. Must be a conditional update that succeeds once across instances (and does nothing when
   * the entity already moved on), so a deadline armed by several instances fires its effect once.
   * Resolves `fired` when it changed something, `early` when the entity is not due yet (it is re-armed).
   */
  fire(key: string): Promise<'fired' | 'nothing' | 'early'>;
}

/**
 * Timers that survive restarts and instances (BRIEF section 5: work that must happen once is claimed once).
 * Owners register a kind in `onModuleInit`, `arm(kind, key, dueAtMs)` after the commit that set a deadline and
 * `disarm` when it was resolved. Deadlines are re-read from the database with `resume(kind)` (called by the owner at
 * boot to get counts; otherwise by the first sweep) and every `DEADLINE_SWEEP_MS`, so deadlines armed by an instance
 * that died still fire on the survivors. Precise timers per key (TimerSet); a failed fire is retried by the next sweep.
 */
@Injectable()
export class DeadlineScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Deadlines');
  private readonly kinds = new Map<string, DeadlineKind>();
  private readonly timers = new TimerSet();
  private sweeper: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** @throws Error when the kind is registered twice. */
  register(kind: DeadlineKind): void {
    if (this.kinds.has(kind.kind)) throw new Error(`deadline kind ${kind.kind} is registered twice`);
    this.kinds.set(kind.kind, kind);
  }

  onApplicationBootstrap(): void {
    this.sweeper = setInterval(() => void this.sweep(), this.config.DEADLINE_SWEEP_MS);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.timers.clearAll();
  }

  /** Arms (or re-arms) the deadline of `key`; fires on the next tick when already due. */
  arm(kind: string, key: string, dueAtMs: number): void {
    const k = this.kinds.get(kind);
    if (!k) throw new Error(`unknown deadline kind ${kind}`);
    if (this.stopped) return;
    this.timers.arm(`${kind}\u0000${key}`, dueAtMs, () => void this.fire(k, key, dueAtMs));
  }

  /** Forgets the deadline of `key` (it was resolved). */
  disarm(kind: string, key: string): void {
    this.timers.clear(`${kind}\u0000${key}`);
  }

  /** True when this process has a timer for the key. */
  isArmed(kind: string, key: string): boolean {
    return this.timers.has(`${kind}\u0000${key}`);
  }

  /** Number of armed timers of one kind in this process. */
  armedCount(kind: string): number {
    let n = 0;
    // TimerSet keys are `${kind}\0${key}`
    for (const key of this.timers.keys()) if (key.startsWith(`${kind}\u0000`)) n++;
    return n;
  }

  /**
   * Reads the pending deadlines of one kind: fires those already due (awaited) and arms the others.
   * @returns `{ fired, armed }` counts (a due deadline another instance handled first is not counted as fired)
   */
  async resume(kind: string): Promise<{ fired: number; armed: number }> {
    const k = this.kinds.get(kind);
    if (!k) throw new Error(`unknown deadline kind ${kind}`);
    let fired = 0;
    let armed = 0;
    for (const d of await k.listPending()) {
      if (this.stopped) break;
      if (d.dueAtMs <= Date.now()) {
        if ((await this.fire(k, d.key, d.dueAtMs)) === 'fired') fired++;
      } else {
        this.arm(kind, d.key, d.dueAtMs);
        armed++;
      }
    }
    return { fired, armed };
  }

  /** One sweep over every kind (periodic; also callable from tests). Never throws. */
  async sweep(): Promise<void> {
    for (const kind of this.kinds.keys()) {
      if (this.stopped) return;
      try {
        const k = this.kinds.get(kind)!;
        for (const d of await k.listPending()) {
          if (!this.isArmed(kind, d.key)) this.arm(kind, d.key, d.dueAtMs);
        }
      } catch (err) {
        if (!this.stopped) this.logger.warn(`sweep of ${kind} failed: ${(err as Error).message}`);
      }
    }
  }

  private async fire(k: DeadlineKind, key: string, dueAtMs: number): Promise<'fired' | 'nothing' | 'early'> {
    if (this.stopped) return 'nothing';
    try {
      const r = await k.fire(key);
      if (r === 'early') this.arm(k.kind, key, Math.max(dueAtMs, Date.now() + 1));
      return r;
    } catch (err) {
      if (!this.stopped) this.logger.error(`${k.kind} ${key} failed: ${(err as Error).message} (the next sweep retries)`);
      return 'nothing';
    }
  }
}
