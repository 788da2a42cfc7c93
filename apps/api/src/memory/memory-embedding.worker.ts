import { Logger } from '@nestjs/common';
import type { MemoryEmbedderStatus } from '@app/contracts';
import type { DataSource } from 'typeorm';
import { nowIso } from '../common/time.util';
import type { EventLogWriter } from '../event-log/event-log.writer';
import { EmbedderError, type Embedder } from './embedders/embedder';
import type { MemoryStore } from './memory-store';

const PG_EMBED_LOCK_KEY = 7_316_209;
const MAX_BACKOFF_MS = 60_000;
const PROGRESS_EVERY_MS = 1000;
/** Most vectors written per unit of work (the embedding call itself takes the whole batch). */
const WRITE_CHUNK = 4;
/** How often the queue scan restarts from the first entry. */
const SWEEP_EVERY_MS = 30_000;

/**
 * The background embedding queue. The queue is the store itself: live entries without a vector of the current model
 * (so a restart with a deep queue resumes where it stopped, and `ON CONFLICT DO NOTHING` on (entry, model) makes each
 * entry embedded once). Runs in batches of `batchSize`: embed outside any transaction (slow I/O), then write the
 * vectors in event-log units of WRITE_CHUNK (a crash between units leaves the rest of the batch in the queue). Failures back off exponentially (1 s .. 60 s); a dimension mismatch stops
 * the worker until the configuration changes (status `unavailable`). On PostgreSQL a session advisory lock makes one
 * instance at a time run the queue.
 *
 * When the seams' durable consumers land, `runBatch` is what the `memory.embedder` consumer's prepare/handle call.
 */
export class MemoryEmbeddingWorker {
  private readonly logger = new Logger('MemoryEmbeddingWorker');
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private retryAt: number | null = null;
  private lastError: string | null = null;
  private fatal = false;
  /** Entries up to this num have a vector of the current model (a scan position, not a guarantee: see SWEEP_EVERY_MS). */
  private cursor = 0;
  private sweptAt = Date.now();
  /** Set while a re-embed (model change or POST reindex) is being reported with events. */
  reindex: { model: string; done: number; total: number; startedAt: number; lastProgressAt: number } | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly store: MemoryStore,
    private readonly events: EventLogWriter,
    readonly embedder: Embedder,
    private readonly batchSize: number,
    private readonly pollMs = 2000,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
  }

  /** Asks for a run soon (after a store). */
  nudge(): void {
    if (this.stopped || this.fatal) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.retryAt !== null && this.retryAt > Date.now()) return;
    this.schedule(0);
  }

  status(): MemoryEmbedderStatus {
    return {
      kind: this.embedder.kind,
      model: this.embedder.model,
      dimension: this.embedder.dimension,
      state: this.fatal ? 'unavailable' : this.retryAt !== null ? 'backing_off' : 'ok',
      lastError: this.lastError,
      retryAt: this.retryAt === null ? null : new Date(this.retryAt).toISOString(),
    };
  }

  /** Whether query embedding should be tried (false while backing off or stopped on a fatal error). */
  get available(): boolean {
    return !this.fatal && (this.retryAt === null || this.retryAt <= Date.now());
  }

  /** Starts reporting a re-embed of `total` entries with events. */
  async beginReindex(total: number): Promise<void> {
    const now = Date.now();
    this.reindex = { model: this.embedder.model, done: 0, total, startedAt: now, lastProgressAt: now };
    this.cursor = 0;
    await this.events.append([
      { type: 'memory.reindex_started', source: 'memory', data: { model: this.embedder.model, dimension: this.embedder.dimension, total } },
    ]);
    this.nudge();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref?.();
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let next = this.pollMs;
    try {
      for (;;) {
        this.again = false;
        const n = await this.withLock(() => this.runBatch());
        if (n === null || this.stopped) break; // another instance holds the queue
        if (n === 0 && !this.again) break;
      }
      this.failures = 0;
      this.retryAt = null;
      this.lastError = null;
    } catch (err) {
      const e = err instanceof EmbedderError ? err : new EmbedderError((err as Error).message, true);
      this.lastError = e.message;
      if (!e.retryable) {
        this.fatal = true;
        this.logger.error(`embedding stopped: ${e.message}`);
      } else {
        this.failures++;
        next = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
        this.retryAt = Date.now() + next;
        this.logger.warn(`embedding failed (${e.message}); retry in ${next} ms`);
      }
    } finally {
      this.running = false;
    }
    if (!this.fatal) this.schedule(next);
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T | null> {
    if (this.ds.options.type !== 'postgres') return fn();
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      const got = (await qr.query('SELECT pg_try_advisory_lock($1) AS ok', [PG_EMBED_LOCK_KEY])) as { ok: boolean }[];
      if (!got[0]?.ok) return null;
      try {
        return await fn();
      } finally {
        await qr.query('SELECT pg_advisory_unlock($1)', [PG_EMBED_LOCK_KEY]);
      }
    } finally {
      await qr.release();
    }
  }

  /**
   * Embeds one batch of the queue. Returns how many entries it embedded (0 = queue empty).
   * @throws EmbedderError from the embedder (nothing is written for that batch).
   */
  async runBatch(): Promise<number> {
    const model = this.embedder.model;
    const dim = this.embedder.dimension;
    const pending = await this.store.pendingForModel(model, this.batchSize, this.cursor);
    if (pending.length === 0) {
      if (this.cursor > 0 && Date.now() - this.sweptAt > SWEEP_EVERY_MS) {
        // rescan from the start now and then: a PostgreSQL sequence value can commit after a higher one
        this.cursor = 0;
        this.sweptAt = Date.now();
        return this.runBatch();
      }
      await this.finishReindex();
      return 0;
    }
    await this.store.ensureVecTable(model, dim);
    const vectors = await this.embedder.embed(pending.map((p) => p.content));
    if (vectors.length !== pending.length || vectors.some((v) => v.length !== dim)) {
      throw new EmbedderError(`dimension mismatch: the embedder returned vectors that are not ${dim}-d`, false);
    }
    const at = nowIso();
    const items = pending.map((p, i) => ({ num: p.num, vector: vectors[i] }));
    let written = 0;
    // one embedding call per batch, but short write units: SQLite has one writer, and a unit of many vectors (+ their
    // index rows) would hold it for tens of ms while stores wait behind it
    for (let i = 0; i < items.length; i += WRITE_CHUNK) {
      const chunk = items.slice(i, i + WRITE_CHUNK);
      written += await this.events.write((tx) => this.store.insertVectors(tx.manager, model, dim, chunk, at));
      if (i + WRITE_CHUNK < items.length) await new Promise((r) => setImmediate(r));
    }
    this.cursor = pending[pending.length - 1].num;
    if (this.reindex) {
      this.reindex.done += written;
      const now = Date.now();
      if (now - this.reindex.lastProgressAt >= PROGRESS_EVERY_MS) {
        this.reindex.lastProgressAt = now;
        await this.events.append([{ type: 'memory.reindex_progress', source: 'memory', data: { model, done: this.reindex.done, total: this.reindex.total } }]);
      }
    }
    return pending.length;
  }

  private async finishReindex(): Promise<void> {
    const r = this.reindex;
    if (!r) return;
    this.reindex = null;
    await this.events.append([
      { type: 'memory.reindex_progress', source: 'memory', data: { model: r.model, done: r.done, total: r.total } },
      { type: 'memory.reindex_completed', source: 'memory', data: { model: r.model, embedded: r.done, durationMs: Date.now() - r.startedAt } },
    ]);
  }
}
