/** Longest delay Node's setTimeout honours (ms); longer waits are re-armed in steps. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * Keyed one-shot timers that fire at an absolute time (epoch ms). Re-arming a key replaces its timer; delays longer than
 * setTimeout's limit are chained. Timers are unref'd so they never keep the process alive; `clearAll` on shutdown.
 */
export class TimerSet {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Runs `fn` once at `atMs` (or on the next tick if already past). */
  arm(key: string, atMs: number, fn: () => void): void {
    this.clear(key);
    const delay = Math.max(0, atMs - this.now());
    const t = setTimeout(
      () => {
        this.timers.delete(key);
        if (this.now() < atMs) this.arm(key, atMs, fn);
        else fn();
      },
      Math.min(delay, MAX_TIMER_DELAY_MS),
    );
    t.unref();
    this.timers.set(key, t);
  }

  clear(key: string): void {
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  /** The armed keys. */
  keys(): IterableIterator<string> {
    return this.timers.keys();
  }

  get size(): number {
    return this.timers.size;
  }

  clearAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
