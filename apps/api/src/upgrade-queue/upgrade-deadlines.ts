import { Logger } from '@nestjs/common';
import { TimerSet } from '../common/scheduling/timer-set';

/** A deadline that must fire once: `key` (upgrade id) is due at `dueAtMs` (epoch ms). */
export interface PendingDeadline {
  key: string;
  dueAtMs: number;
}

/**
 * The slice of the deadline scheduler (TEAM.md seam 4) the upgrade queue needs: register a kind once, then arm /
 * disarm keys after the commit that set / cleared their deadline. `fire` must be a conditional update that
 * succeeds once across instances; `listPending` is re-read at boot and on every sweep, so the deadlines of a dead
 * instance still fire.
 */
export interface UpgradeDeadlines {
  register(spec: { kind: string; listPending: () => Promise<PendingDeadline[]>; fire: (key: string) => Promise<void> }): void;
  arm(kind: string, key: string, dueAtMs: number): void;
  disarm(kind: string, key: string): void;
  /** Re-reads every kind's pending deadlines and arms them (boot and periodic sweep). */
  sweep(): Promise<void>;
  stop(): void;
}

/** DI token of the deadlines implementation the upgrade queue uses. */
export const UPGRADE_DEADLINES = Symbol('UPGRADE_DEADLINES');

/**
 * In-process implementation of `UpgradeDeadlines` (timers + sweep from the database) used until the shared
 * DeadlineScheduler lands on main; correctness across instances comes from `fire` being a conditional update.
 */
export class LocalUpgradeDeadlines implements UpgradeDeadlines {
  private readonly logger = new Logger('UpgradeDeadlines');
  private readonly timers = new TimerSet();
  private readonly kinds = new Map<string, { listPending: () => Promise<PendingDeadline[]>; fire: (key: string) => Promise<void> }>();

  register(spec: { kind: string; listPending: () => Promise<PendingDeadline[]>; fire: (key: string) => Promise<void> }): void {
    this.kinds.set(spec.kind, spec);
  }

  arm(kind: string, key: string, dueAtMs: number): void {
    const spec = this.kinds.get(kind);
    if (!spec) return;
    this.timers.arm(`${kind}:${key}`, dueAtMs, () => {
      spec.fire(key).catch((err: Error) => this.logger.warn(`deadline ${kind}:${key} failed: ${err.message}`));
    });
  }

  disarm(kind: string, key: string): void {
    this.timers.clear(`${kind}:${key}`);
  }

  async sweep(): Promise<void> {
    for (const [kind, spec] of this.kinds) {
      for (const d of await spec.listPending()) {
        if (!this.timers.has(`${kind}:${d.key}`)) this.arm(kind, d.key, d.dueAtMs);
      }
    }
  }

  stop(): void {
    this.timers.clearAll();
  }
}
