import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  MEMORY_ENTRY_TYPES,
  MEMORY_EVENT_PREVIEW_CHARS,
  type MemoryContextResponse,
  type MemoryEntryDto,
  type MemoryEntryType,
  type MemoryFilters,
  type MemorySearchHit,
  type MemorySearchMode,
  type MemorySearchResponse,
  type MemoryStatsDto,
} from '@app/contracts';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { nowIso } from '../common/time.util';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogReader } from '../event-log/event-log.reader';
import { EventLogWriter } from '../event-log/event-log.writer';
import type { WriteContext } from '../event-log/event-log.types';
import { buildContextBlock } from './memory-context';
import { MemoryEmbeddingWorker } from './memory-embedding.worker';
import { createEmbedder, type EmbedderChoice } from './embedders/create-embedder';
import { type Embedder } from './embedders/embedder';
import { memoryError } from './memory.errors';
import { FALLBACK_WEIGHTS, fuse, parseQuery, SEMANTIC_WEIGHTS, type Candidate, type FusionWeights } from './memory-ranking';
import { MemoryStore, toDto, type MemoryRow } from './memory-store';

/** Longest content accepted, in characters (bigger documents should be chunked by the caller). */
export const MAX_CONTENT_CHARS = 65_536;
/** Largest `limit` of a search. */
export const MAX_SEARCH_LIMIT = 200;
/** Largest context budget, tokens. */
export const MAX_CONTEXT_TOKENS = 32_768;
/** Candidates taken from each signal before fusion. */
const CANDIDATES_PER_SIGNAL = Number(process.env.MEMORY_CANDIDATES ?? 200);
/** Subject whose facts are always in context (personal facts about the operator). */
export const PERSONAL_SUBJECT = 'operator';

/** What `store` takes. `embedding` is a precomputed vector for the current model (checked against its dimension). */
export interface StoreMemoryInput {
  content: string;
  type?: MemoryEntryType;
  source?: string;
  agentId?: string | null;
  taskId?: string | null;
  sessionId?: string | null;
  metadata?: Record<string, unknown>;
  /** ISO time the memory refers to (defaults to now). */
  createdAt?: string;
  subject?: string | null;
  factKey?: string | null;
  validFrom?: string | null;
  embedding?: number[];
}

export interface SearchOptions {
  filters?: MemoryFilters;
  limit?: number;
  mode?: MemorySearchMode;
}

export interface SetFactInput {
  subject: string;
  key: string;
  content: string;
  source?: string;
  agentId?: string | null;
  /** When the fact became true (default now); the previous fact's validTo is set to it. */
  validFrom?: string;
  metadata?: Record<string, unknown>;
}

function isoOrThrow(value: string | undefined | null, field: string): string | null {
  if (value === undefined || value === null) return null;
  const ms = Date.parse(value);
  if (typeof value !== 'string' || Number.isNaN(ms)) throw memoryError('memory/invalid_date', `${field} is not an ISO-8601 date`);
  return new Date(ms).toISOString();
}

/**
 * Semantic memory (issue 9): hybrid recall over `memory_entries` (BM25 + vectors + conversation structure),
 * non-blocking writes (the entry and its lexical index commit; vectors come from the background worker), facts with
 * supersede and as-of, and token-budgeted context blocks. Every write goes through the event log's unit of work and
 * appends its `memory.*` event in the same transaction.
 */
@Injectable()
export class MemoryService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(MemoryService.name);
  readonly db: MemoryStore;
  readonly embedder: Embedder;
  /** What MEMORY_EMBEDDER asked for and why the chain fell back, if it did. */
  readonly embedderChoice: EmbedderChoice;
  readonly worker: MemoryEmbeddingWorker;
  readonly weights: FusionWeights;
  private knownSources = new Set<string>();
  private sourcesTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.db = new MemoryStore(ds);
    const choice = createEmbedder(config);
    this.embedder = choice.embedder;
    this.embedderChoice = choice;
    this.weights = this.embedder.kind === 'fallback' ? FALLBACK_WEIGHTS : SEMANTIC_WEIGHTS;
    this.worker = new MemoryEmbeddingWorker(ds, this.db, events, this.embedder, config.MEMORY_EMBED_BATCH);
  }

  async onModuleInit(): Promise<void> {
    await this.db.init((msg) => this.logger.warn(msg));
    if (this.embedderChoice.fallbackReason) {
      this.logger.error(`MEMORY_EMBEDDER=${this.embedderChoice.configured} is unusable (${this.embedderChoice.fallbackReason}); using the ${this.embedder.kind} embedder (${this.embedder.model})`);
    }
    this.logger.log(`vector index: ${this.db.vectorIndex}`);
    await this.refreshSources();
    this.sourcesTimer = setInterval(() => void this.refreshSources().catch(() => undefined), 30_000);
    this.sourcesTimer.unref?.();
    // a configured model with a backlog while vectors of another model exist = a model change: report it as a re-embed
    const pending = await this.db.countPending(this.embedder.model);
    if (pending > 0) {
      const others = (await this.ds.query(`SELECT COUNT(*) AS n FROM "memory_vectors" WHERE "model" <> ${this.db.pg ? '$1' : '?'}`, [this.embedder.model])) as {
        n: number | string;
      }[];
      if (Number(others[0].n) > 0) await this.worker.beginReindex(pending);
    }
    this.worker.start();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.sourcesTimer) clearInterval(this.sourcesTimer);
    await this.worker.stop();
  }

  private async refreshSources(): Promise<void> {
    for (const s of await this.db.sources()) this.knownSources.add(s);
  }

  private validateStore(input: StoreMemoryInput): void {
    if (typeof input.content !== 'string' || input.content.trim().length === 0) throw memoryError('memory/invalid_content', 'content must be a non-empty string');
    if (input.content.length > MAX_CONTENT_CHARS) {
      throw memoryError('memory/content_too_large', `content is ${input.content.length} characters; the limit is ${MAX_CONTENT_CHARS}`, 413);
    }
    if (input.type && !MEMORY_ENTRY_TYPES.includes(input.type)) throw memoryError('memory/invalid_content', `type must be one of ${MEMORY_ENTRY_TYPES.join(', ')}`);
    if (input.embedding !== undefined && input.embedding.length !== this.embedder.dimension) {
      throw memoryError(
        'memory/dimension_mismatch',
        `embedding has ${input.embedding.length} dimensions; the configured model ${this.embedder.model} has ${this.embedder.dimension}`,
      );
    }
  }

  /**
   * Stores an entry: the row and its lexical index commit together with a `memory.stored` event; the vector is
   * computed later by the background worker (unless `embedding` is given). Searchable by keyword on return.
   * @throws AppError memory/invalid_content (400), memory/content_too_large (413), memory/dimension_mismatch (400),
   *   memory/invalid_date (400).
   */
  async store(input: StoreMemoryInput): Promise<MemoryEntryDto> {
    this.validateStore(input);
    const dto = await this.events.write((tx) => this.storeInTx(tx, input));
    this.afterStore(dto);
    return dto;
  }

  /** Stores an entry inside another module's unit of work (call `afterStore` with the result after commit). */
  async storeInTx(tx: WriteContext, input: StoreMemoryInput): Promise<MemoryEntryDto> {
    this.validateStore(input);
    const createdAt = isoOrThrow(input.createdAt, 'createdAt') ?? nowIso();
    const id = randomUUID();
    const type = input.type ?? 'observation';
    const row = {
      id,
      content: input.content,
      type,
      source: (input.source ?? 'system').slice(0, 100),
      agentId: input.agentId ?? null,
      taskId: input.taskId ?? null,
      sessionId: input.sessionId ?? null,
      metadata: input.metadata ?? {},
      createdAt,
      subject: input.subject ?? null,
      factKey: input.factKey ?? null,
      validFrom: type === 'fact' ? (isoOrThrow(input.validFrom, 'validFrom') ?? createdAt) : null,
    };
    const num = await this.db.insertEntry(tx.manager, row);
    const models: string[] = [];
    if (input.embedding) {
      const v = Float32Array.from(input.embedding);
      await this.db.ensureVecTableInTx(tx.manager, this.embedder.model, this.embedder.dimension);
      await this.db.insertVectors(tx.manager, this.embedder.model, this.embedder.dimension, [{ num, vector: normalize(v) }], createdAt);
      models.push(this.embedder.model);
    }
    tx.append({
      type: 'memory.stored',
      source: 'memory',
      agentId: row.agentId,
      taskId: row.taskId,
      data: {
        entryId: id,
        type,
        source: row.source,
        sessionId: row.sessionId,
        preview: row.content.slice(0, MEMORY_EVENT_PREVIEW_CHARS),
        contentChars: row.content.length,
        subject: row.subject,
        factKey: row.factKey,
      },
    });
    return toDto({ ...row, num, metadata: JSON.stringify(row.metadata), validTo: null, supersededBy: null, deletedAt: null }, models);
  }

  /** After-commit part of a store: wakes the embedder and learns the source name. */
  afterStore(dto: MemoryEntryDto): void {
    const s = dto.source.toLowerCase();
    if (/^[a-z0-9]+$/.test(s)) this.knownSources.add(s);
    this.worker.nudge();
  }

  /** Stores many entries in one unit of work (bulk import, eval, bench). */
  async storeMany(inputs: StoreMemoryInput[]): Promise<MemoryEntryDto[]> {
    for (const i of inputs) this.validateStore(i);
    const out = await this.events.write(async (tx) => {
      const r: MemoryEntryDto[] = [];
      for (const i of inputs) r.push(await this.storeInTx(tx, i));
      return r;
    });
    for (const d of out) this.afterStore(d);
    return out;
  }

  /** @throws AppError memory/entry_not_found (404). Deleted entries are returned with `deletedAt` set. */
  async get(id: string): Promise<MemoryEntryDto> {
    const row = await this.db.byId(id);
    if (!row) throw memoryError('memory/entry_not_found', `memory entry ${id} not found`, 404);
    const models = await this.db.modelsOf([Number(row.num)]);
    return toDto(row, models.get(Number(row.num)) ?? []);
  }

  /**
   * Soft delete: the row stays (with deletedAt), its lexical and vector index rows go, `memory.deleted` is appended.
   * @throws AppError memory/entry_not_found (404) for an unknown or already deleted entry.
   */
  async delete(id: string): Promise<MemoryEntryDto> {
    return this.events.write(async (tx) => {
      const q = this.db.params();
      const rows = (await tx.manager.query(`SELECT "num", "type", "agentId", "taskId" FROM "memory_entries" WHERE "id" = ${q.p(id)} AND "deletedAt" IS NULL`, q.values)) as MemoryRow[];
      if (rows.length === 0) throw memoryError('memory/entry_not_found', `memory entry ${id} not found`, 404);
      const at = nowIso();
      await this.db.softDelete(tx.manager, Number(rows[0].num), at);
      tx.append({ type: 'memory.deleted', source: 'memory', agentId: rows[0].agentId, taskId: rows[0].taskId, data: { entryId: id, type: rows[0].type } });
      const after = (await tx.manager.query(`SELECT * FROM "memory_entries" WHERE "id" = ${this.db.pg ? '$1' : '?'}`, [id])) as MemoryRow[];
      return toDto(after[0]);
    });
  }

  /**
   * Hybrid search over the whole store after filters. Lexical: BM25 (SQLite FTS5) / ts_rank (PostgreSQL) of the
   * stop-word-free query terms; vector: cosine similarity among vectors of the current model only; fused with the
   * session structure (see memory-ranking.ts). The response says which mode served and why a weaker one did.
   * @throws AppError memory/invalid_limit (400).
   */
  async search(query: string, opts: SearchOptions = {}): Promise<MemorySearchResponse> {
    const limit = opts.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) throw memoryError('memory/invalid_limit', `limit must be an integer in 1..${MAX_SEARCH_LIMIT}`);
    const filters = this.normalizeFilters(opts.filters ?? {});
    const wanted = opts.mode ?? 'hybrid';
    const parsed = parseQuery(query, this.knownSources);
    let mode: MemorySearchMode = wanted;
    let degraded: string | null = null;
    const lexical = wanted === 'vector' ? [] : await this.db.lexical(parsed.terms, filters, CANDIDATES_PER_SIGNAL);
    let vector: { num: number; cosine: number }[] = [];
    if (wanted !== 'lexical' && this.weights.vector > 0) {
      const qv = await this.embedQuery(parsed.vectorText || query);
      if (qv === null) {
        degraded = 'embedder_unavailable';
        mode = 'lexical';
      } else {
        vector = await this.db.nearest(this.embedder.model, qv, filters, CANDIDATES_PER_SIGNAL);
        if (vector.length === 0 && wanted === 'hybrid') {
          degraded = 'no_vectors';
          mode = 'lexical';
        }
      }
    }
    if (mode === 'vector' && degraded) mode = 'lexical';
    const bm25 = new Map(lexical.map((h) => [h.num, h.score]));
    const cos = new Map(vector.map((h) => [h.num, h.cosine]));
    const seedNums = [...new Set([...bm25.keys(), ...cos.keys()])];
    const nb = await this.db.neighbors(seedNums);
    const allNums = new Set(seedNums);
    const seeds = new Set(seedNums);
    // adjacency is symmetric: a loaded neighbour links back to the seed it was found from
    for (const [num, v] of [...nb.entries()]) {
      if (v.prev !== null) {
        allNums.add(v.prev);
        const back = nb.get(v.prev) ?? { prev: null, next: null };
        if (!seeds.has(v.prev)) nb.set(v.prev, { ...back, next: num });
      }
      if (v.next !== null) {
        allNums.add(v.next);
        const back = nb.get(v.next) ?? { prev: null, next: null };
        if (!seeds.has(v.next)) nb.set(v.next, { ...back, prev: num });
      }
    }
    const rows = await this.db.candidateRows([...allNums], filters);
    const kept = new Set(rows.map((r) => r.num));
    const candidates: Candidate[] = rows.map((r) => {
      const n = r.num;
      const links = nb.get(n);
      return {
        num: n,
        sessionId: r.sessionId,
        source: r.source,
        bm25: bm25.get(n) ?? 0,
        cosine: cos.get(n) ?? 0,
        prev: links?.prev !== undefined && links.prev !== null && kept.has(links.prev) ? links.prev : null,
        next: links?.next !== undefined && links.next !== null && kept.has(links.next) ? links.next : null,
      };
    });
    const ranked = fuse(candidates, parsed.namedSources, this.weights, mode).slice(0, limit);
    // full rows (content, metadata) only for the hits returned
    const byNum = new Map((await this.db.byNums(ranked.map((r) => r.num), filters)).map((r) => [Number(r.num), r]));
    const models = await this.db.modelsOf(ranked.map((r) => r.num));
    // (an entry deleted since the candidates were read is left out)
    const hits: MemorySearchHit[] = ranked.filter((r) => byNum.has(r.num)).map((r) => ({
      entry: toDto(byNum.get(r.num)!, models.get(r.num) ?? []),
      score: r.score,
      components: r.components,
    }));
    return { mode, model: mode === 'lexical' ? null : this.embedder.model, degraded, hits };
  }

  private async embedQuery(text: string): Promise<Float32Array | null> {
    if (!this.worker.available) return null;
    try {
      // a query waits at most 2 s for its vector, then is served lexically
      const [v] = await this.embedder.embed([text], AbortSignal.timeout(Math.min(2000, this.config.MEMORY_EMBED_TIMEOUT_MS)));
      return v.length === this.embedder.dimension ? v : null;
    } catch (err) {
      this.logger.warn(`query embedding failed: ${(err as Error).message}`);
      return null;
    }
  }

  /** Checks filter values (unknown keys are rejected by the DTO layer). @throws AppError memory/invalid_filter (400). */
  normalizeFilters(f: MemoryFilters): MemoryFilters {
    const allowed = new Set(['type', 'agentId', 'includeShared', 'taskId', 'sessionId', 'source', 'from', 'to']);
    for (const k of Object.keys(f)) if (!allowed.has(k)) throw memoryError('memory/invalid_filter', `unknown filter ${k}`);
    if (f.type !== undefined && !MEMORY_ENTRY_TYPES.includes(f.type)) throw memoryError('memory/invalid_filter', `type must be one of ${MEMORY_ENTRY_TYPES.join(', ')}`);
    const out: MemoryFilters = { ...f };
    if (f.from !== undefined) out.from = isoOrThrow(f.from, 'from') ?? undefined;
    if (f.to !== undefined) out.to = isoOrThrow(f.to, 'to') ?? undefined;
    return out;
  }

  /**
   * A prompt context block: personal facts (subject `operator`, currently valid) first, then search hits, each with
   * provenance `[entry id · source · date]` (facts not valid now are left out), within `maxTokens` counted by gpt-tokenizer (headers and separators
   * included); a hit that does not fit is skipped and shorter ones are still tried.
   * @throws AppError memory/invalid_max_tokens (400), memory/invalid_filter (400).
   */
  async getContext(query: string, opts: { maxTokens?: number; filters?: MemoryFilters } = {}): Promise<MemoryContextResponse> {
    const maxTokens = opts.maxTokens ?? 2000;
    if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_CONTEXT_TOKENS) {
      throw memoryError('memory/invalid_max_tokens', `maxTokens must be an integer in 1..${MAX_CONTEXT_TOKENS}`);
    }
    const res = await this.search(query, { filters: opts.filters, limit: 30 });
    const pinned = await this.currentFacts(PERSONAL_SUBJECT);
    const pinnedIds = new Set(pinned.map((p) => p.id));
    const now = nowIso();
    // a fact that is not true now (superseded, or not yet valid) would contradict the current one: history stays in
    // search and facts/history, never in a prompt
    const validNow = (e: MemoryEntryDto) => e.type !== 'fact' || ((e.validFrom === null || e.validFrom <= now) && (e.validTo === null || e.validTo > now));
    const block = buildContextBlock(
      pinned,
      res.hits.map((h) => h.entry).filter((e) => !pinnedIds.has(e.id) && validNow(e)),
      maxTokens,
    );
    return { ...block, maxTokens, mode: res.mode };
  }

  /**
   * Sets a fact: the open fact with the same (subject, key) gets validTo = the new fact's validFrom and
   * supersededBy = the new id (it is never deleted); `memory.fact_superseded` is appended with `memory.stored`.
   * @throws AppError memory/invalid_fact (400) for an empty subject/key, or a validFrom before the open fact's validFrom.
   */
  async setFact(input: SetFactInput): Promise<MemoryEntryDto> {
    const subject = input.subject?.trim();
    const key = input.key?.trim();
    if (!subject || !key || subject.length > 200 || key.length > 200) throw memoryError('memory/invalid_fact', 'subject and key must be non-empty (at most 200 characters)');
    const validFrom = isoOrThrow(input.validFrom, 'validFrom') ?? nowIso();
    this.validateStore({ content: input.content });
    const dto = await this.events.write(async (tx) => {
      const q = this.db.params();
      const open = (await tx.manager.query(
        `SELECT "num", "id", "validFrom" FROM "memory_entries" WHERE "type" = 'fact' AND "subject" = ${q.p(subject)} AND "factKey" = ${q.p(key)} AND "validTo" IS NULL AND "deletedAt" IS NULL`,
        q.values,
      )) as { num: number; id: string; validFrom: string }[];
      if (open[0] && open[0].validFrom > validFrom) {
        throw memoryError('memory/invalid_fact', `validFrom ${validFrom} is before the current fact's validFrom ${open[0].validFrom}`);
      }
      if (open[0]) {
        const u = this.db.params();
        await tx.manager.query(`UPDATE "memory_entries" SET "validTo" = ${u.p(validFrom)} WHERE "num" = ${u.p(Number(open[0].num))}`, u.values);
      }
      const stored = await this.storeInTx(tx, {
        content: input.content,
        type: 'fact',
        source: input.source ?? 'operator',
        agentId: input.agentId ?? null,
        metadata: input.metadata,
        subject,
        factKey: key,
        validFrom,
        createdAt: nowIso(),
      });
      if (open[0]) {
        const u = this.db.params();
        await tx.manager.query(`UPDATE "memory_entries" SET "supersededBy" = ${u.p(stored.id)} WHERE "num" = ${u.p(Number(open[0].num))}`, u.values);
        tx.append({
          type: 'memory.fact_superseded',
          source: 'memory',
          agentId: input.agentId ?? null,
          data: { subject, factKey: key, oldEntryId: open[0].id, newEntryId: stored.id, validTo: validFrom },
        });
      }
      return stored;
    });
    this.afterStore(dto);
    return dto;
  }

  /**
   * Every version of a fact (oldest first), superseded ones included. Without subject and key: the latest 500
   * versions of every fact (newest first). @throws AppError memory/invalid_fact (400) when only one of them is given.
   */
  async factHistory(subject?: string, key?: string): Promise<MemoryEntryDto[]> {
    if ((subject === undefined) !== (key === undefined)) throw memoryError('memory/invalid_fact', 'give both subject and key, or neither');
    const q = this.db.params();
    const rows = (await this.ds.query(
      subject !== undefined
        ? `SELECT * FROM "memory_entries" WHERE "type" = 'fact' AND "subject" = ${q.p(subject)} AND "factKey" = ${q.p(key)} ORDER BY "validFrom", "num"`
        : `SELECT * FROM "memory_entries" WHERE "type" = 'fact' ORDER BY "num" DESC LIMIT 500`,
      q.values,
    )) as MemoryRow[];
    return rows.map((r) => toDto(r));
  }

  /**
   * Facts true at instant `at` (validFrom <= at < validTo, or still open), optionally of one subject; deleted facts
   * are excluded. @throws AppError memory/invalid_date (400).
   */
  async factsAsOf(at: string, subject?: string): Promise<MemoryEntryDto[]> {
    const t = isoOrThrow(at, 'at')!;
    const q = this.db.params();
    const window = `"validFrom" <= ${q.p(t)} AND ("validTo" IS NULL OR "validTo" > ${q.p(t)})`;
    const subj = subject ? ` AND "subject" = ${q.p(subject)}` : '';
    const rows = (await this.ds.query(
      `SELECT * FROM "memory_entries" WHERE "type" = 'fact' AND "deletedAt" IS NULL AND ${window}${subj} ORDER BY "subject", "factKey"`,
      q.values,
    )) as MemoryRow[];
    return rows.map((r) => toDto(r));
  }

  /** Currently valid facts of a subject (or of all subjects). */
  async currentFacts(subject?: string): Promise<MemoryEntryDto[]> {
    const q = this.db.params();
    const subj = subject ? ` AND "subject" = ${q.p(subject)}` : '';
    const rows = (await this.ds.query(
      `SELECT * FROM "memory_entries" WHERE "type" = 'fact' AND "deletedAt" IS NULL AND "validTo" IS NULL${subj} ORDER BY "subject", "factKey" LIMIT 500`,
      q.values,
    )) as MemoryRow[];
    return rows.map((r) => toDto(r));
  }

  /** Entry counts, embedded share, embedder status and queue lag, with the event-log head seq read before them. */
  async stats(): Promise<MemoryStatsDto> {
    const headSeq = await this.reader.getHeadSeq();
    const byTypeRows = (await this.ds.query(`SELECT "type", COUNT(*) AS n FROM "memory_entries" WHERE "deletedAt" IS NULL GROUP BY "type"`)) as { type: MemoryEntryType; n: string | number }[];
    const byType = Object.fromEntries(MEMORY_ENTRY_TYPES.map((t) => [t, 0])) as Record<MemoryEntryType, number>;
    let total = 0;
    for (const r of byTypeRows) {
      byType[r.type] = Number(r.n);
      total += Number(r.n);
    }
    const del = (await this.ds.query(`SELECT COUNT(*) AS n FROM "memory_entries" WHERE "deletedAt" IS NOT NULL`)) as { n: string | number }[];
    const vm = (await this.ds.query(
      `SELECT v."model", COUNT(*) AS n FROM "memory_vectors" v JOIN "memory_entries" e ON e."num" = v."entryNum" WHERE e."deletedAt" IS NULL GROUP BY v."model"`,
    )) as { model: string; n: string | number }[];
    const vectorsByModel = Object.fromEntries(vm.map((r) => [r.model, Number(r.n)]));
    const embedded = vectorsByModel[this.embedder.model] ?? 0;
    const r = this.worker.reindex;
    return {
      total,
      byType,
      deleted: Number(del[0].n),
      embedded,
      embeddedShare: total === 0 ? 1 : Math.round((embedded / total) * 1e4) / 1e4,
      queueLag: total - embedded,
      embedder: { ...this.worker.status(), configured: this.embedderChoice.configured, fallbackReason: this.embedderChoice.fallbackReason },
      vectorsByModel,
      reindex: r ? { running: true, model: r.model, done: r.done, total: r.total } : null,
      vectorIndex: this.db.vectorIndex,
      headSeq,
      epoch: this.reader.epoch,
    };
  }

  /**
   * Re-embeds the whole store with the current model in the background: drops this model's vectors, then the worker
   * re-creates them batch by batch with `memory.reindex_*` events. Search keeps serving (lexically for entries not yet
   * re-embedded). Returns the number of entries queued.
   */
  async reindex(): Promise<{ model: string; total: number }> {
    const model = this.embedder.model;
    await this.events.write(async (tx) => {
      const q = this.db.params();
      await tx.manager.query(`DELETE FROM "memory_vectors" WHERE "model" = ${q.p(model)}`, q.values);
      await this.db.clearVecTable(tx.manager, model, this.embedder.dimension);
    });
    const total = await this.db.countPending(model);
    await this.worker.beginReindex(total);
    return { model, total };
  }
}

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}
