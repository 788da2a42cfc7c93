/**
 * Per-channel `seq` cursor with de-duplication (BRIEF section 5: delivery is at-least-once, the client
 * de-duplicates by `seq`). Remembers the highest seq seen (the `since` to resubscribe with) and a bounded
 * window of recently seen seqs, so an event replayed after a reconnect, or delivered on a second path,
 * is accepted exactly once. Seqs at or below the evicted floor are treated as already seen.
 */
export class SeqTracker {
  private readonly seen = new Set<number>();
  private readonly order: number[] = [];
  private floor = 0;
  private max: number | null = null;

  /** @param windowSize how many recent seqs to remember for de-duplication (default 10,000). */
  constructor(private readonly windowSize = 10_000) {}

  /** Highest seq accepted (or set by {@link advanceTo}); null before the first one. */
  get lastSeq(): number | null {
    return this.max;
  }

  /**
   * Records `seq` and says whether it is new. Returns false for a duplicate, a seq already evicted from the
   * window, or a seq at/below a cursor set by {@link advanceTo}.
   */
  accept(seq: number): boolean {
    if (!Number.isInteger(seq) || seq <= this.floor || this.seen.has(seq)) return false;
    this.seen.add(seq);
    this.order.push(seq);
    if (this.max === null || seq > this.max) this.max = seq;
    while (this.order.length > this.windowSize) {
      const evicted = this.order.shift() as number;
      this.seen.delete(evicted);
      if (evicted > this.floor) this.floor = evicted;
    }
    return true;
  }

  /**
   * Moves the cursor to a snapshot's head seq: every seq <= `seq` counts as already seen (the snapshot
   * covered it). Never moves backwards.
   */
  advanceTo(seq: number): void {
    if (seq > this.floor) this.floor = seq;
    if (this.max === null || seq > this.max) this.max = seq;
    for (const s of this.seen) if (s <= this.floor) this.seen.delete(s);
    for (let i = this.order.length - 1; i >= 0; i--) if (this.order[i] <= this.floor) this.order.splice(i, 1);
  }

  /** Forgets everything (another epoch: old seqs mean nothing). */
  reset(): void {
    this.seen.clear();
    this.order.length = 0;
    this.floor = 0;
    this.max = null;
  }
}
