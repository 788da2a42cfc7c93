import type { Logger } from '@nestjs/common';
import type { EventEnvelope } from '@app/contracts';
import { PAGE_MAX_BYTES, type EventLogReader } from '../event-log/event-log.reader';

/** Events read per query while catching up with the head (a page is handed on as one batch; also <= 1 MB of data). */
export const TAIL_PAGE_SIZE = 1000;

/**
 * Feeds this instance's sockets from the shared `event_log` in seq order (several instances, BRIEF sections 4-5;
 * ADR 0060). Each instance keeps `deliveredSeq`, the highest seq it has handed on, and on every wake reads
 * `seq > deliveredSeq` in seq order, page by page, so its sockets see every event exactly once and in order,
 * whichever instance committed it. Wakes come from this instance's commits (bus `appended`), from other
 * instances' head notices (Socket.IO server-side event over Redis) and from a periodic poll that covers a lost notice.
 *
 * Correctness rests on commit order = seq order: on PostgreSQL a group takes its seqs and inserts under
 * `pg_advisory_xact_lock`, so once seq N is visible every seq below N is committed or never will be (a rolled-back
 * group leaves a hole that is never filled).
 */
export class LogTailer {
  private delivered = 0;
  private running = false;
  private again = false;
  private stopped = false;
  private started = false;

  /**
   * @param deliver receives each page (non-empty, seq-ascending, strictly after the previous page).
   */
  constructor(
    private readonly reader: EventLogReader,
    private readonly deliver: (events: EventEnvelope[]) => void,
    private readonly logger: Logger,
    private readonly pageSize = TAIL_PAGE_SIZE,
  ) {}

  /** Starts at the current head: only events committed from now on are delivered (replays serve the past). */
  async start(): Promise<void> {
    this.delivered = await this.reader.getHeadSeq();
    this.started = true;
    this.wake();
  }

  /** Highest seq handed to `deliver` so far. */
  get deliveredSeq(): number {
    return this.delivered;
  }

  /** Schedules a catch-up read (coalesced: a wake during a read causes exactly one more read). */
  wake(): void {
    if (this.stopped || !this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain();
  }

  /** Stops for good (shutdown); a read in progress finishes without delivering more pages. */
  stop(): void {
    this.stopped = true;
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        for (;;) {
          const { items: page, truncated } = await this.reader.findBounded({ after: this.delivered }, this.pageSize, PAGE_MAX_BYTES, 'asc');
          if (this.stopped || page.length === 0) break;
          this.delivered = page[page.length - 1].seq;
          this.deliver(page);
          if (page.length < this.pageSize && !truncated) break;
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      // the next wake (a commit, a notice or the poll) retries from the same seq: nothing is skipped
      this.logger.error(`log tail read after seq ${this.delivered} failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
