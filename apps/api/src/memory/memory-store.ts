import type { MemoryEntryDto, MemoryEntryType, MemoryFilters } from '@app/contracts';
import Database from 'better-sqlite3';
import type { DataSource, EntityManager } from 'typeorm';
import { fnv1a32 } from './embedders/hash.embedder';
import { SignCodeIndex } from './memory-code-index';
import { EntryDirectory } from './memory-entry-directory';

/** A `memory_entries` row as read back (PostgreSQL returns bigint as string). */
export interface MemoryRow {
  num: number | string;
  id: string;
  content: string;
  type: MemoryEntryType;
  source: string;
  agentId: string | null;
  taskId: string | null;
  sessionId: string | null;
  metadata: string;
  createdAt: string;
  subject: string | null;
  factKey: string | null;
  validFrom: string | null;
  validTo: string | null;
  supersededBy: string | null;
  deletedAt: string | null;
}

/** What `insertEntry` writes (id and createdAt already assigned). */
export interface NewMemoryRow {
  id: string;
  content: string;
  type: MemoryEntryType;
  source: string;
  agentId: string | null;
  taskId: string | null;
  sessionId: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  subject: string | null;
  factKey: string | null;
  validFrom: string | null;
}

/**
 * Vector search (SQLite): how many coarse candidates (by Hamming distance of the sign bits) get their exact cosine
 * computed (MEMORY_RESCORE_CANDIDATES, default 1,000; at least 4 x the requested k). A filtered set of at most this many
 * entries is ranked exactly.
 */
export const RESCORE_CANDIDATES = Number(process.env.MEMORY_RESCORE_CANDIDATES ?? 1000);
/**
 * Most FTS postings (summed document frequency of the kept query terms) one lexical search evaluates; the rarest
 * terms are kept first (MEMORY_LEXICAL_MAX_POSTINGS, default 20,000).
 */
export const LEXICAL_MAX_POSTINGS = Number(process.env.MEMORY_LEXICAL_MAX_POSTINGS ?? 20_000);

/**
 * Whether the in-process code index also keeps each vector's floats (SQLite), so the exact rescoring of the coarse
 * candidates reads nothing from SQLite: dim x 4 bytes of memory per entry (about 154 MB at 100,000 x 384-d).
 * MEMORY_VECTORS_IN_PROCESS=0 keeps only the codes and rescores with sqlite-vec from the stored floats.
 */
export const VECTORS_IN_PROCESS = process.env.MEMORY_VECTORS_IN_PROCESS !== '0';

/**
 * In-process sign-bit code indexes (SQLite), one per model table, shared by every MemoryStore of one data source (the
 * store is the only writer of its tables there). Loaded lazily from the bits table on the first search of a model.
 */
const codeIndexes = new WeakMap<DataSource, Map<string, SignCodeIndex>>();

/**
 * Whether search reads the filtered set, candidate rows and session neighbours from the in-process EntryDirectory
 * (SQLite; MEMORY_DIRECTORY_IN_PROCESS=0 reads them from SQLite as before).
 */
export const DIRECTORY_IN_PROCESS = process.env.MEMORY_DIRECTORY_IN_PROCESS !== '0';

/** Prepared statements of the hot read paths (SQLite), per better-sqlite3 connection; see MemoryStore.stmt. */
const statementCaches = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** Stems of query terms under `memory_fts`'s tokenizer (deterministic per term); cleared when it reaches 50,000. */
const stemCache = new Map<string, string>();

/**
 * SQLite: document frequency per stem (from `memory_fts_vocab`) per database, for `capPostings`. Emptied by every
 * write to `memory_fts` of this process (insertEntry, softDelete), so a read after a write goes to the index again:
 * the cap never uses a count from before the latest write. Single process per SQLite file (as the entry directory).
 */
const docFreqs = new WeakMap<DataSource, Map<string, number>>();

/** In-process entry directories (SQLite), one per data source, shared by its MemoryStores; see EntryDirectory. */
const directories = new WeakMap<DataSource, EntryDirectory>();

const ENTRY_COLUMNS =
  '"num", "id", "content", "type", "source", "agentId", "taskId", "sessionId", "metadata", "createdAt", "subject", "factKey", "validFrom", "validTo", "supersededBy", "deletedAt"';

/** Float32 vector <-> bytes (little-endian float32, what sqlite-vec reads from a BLOB). */
export function vectorToBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}
export function bytesToVector(b: Buffer | Uint8Array): Float32Array {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

/**
 * SQL of the memory tables for both dialects (SQLite: FTS5 + sqlite-vec vec0; PostgreSQL: tsvector/GIN + brute-force
 * cosine over `memory_vectors`). Writes take the caller's transaction manager; reads use the data source.
 * Placeholders are built per dialect (`?` vs `$n`).
 */
export class MemoryStore {
  readonly pg: boolean;
  /** PostgreSQL with the pgvector extension: per-model `vector(dim)` tables with an HNSW index (set by `init`). */
  pgvector = false;
  private readonly vecTables = new Set<string>();
  private readonly codeLoads = new Map<string, Promise<void>>();
  private tokenizer: ((words: readonly string[]) => Map<string, string>) | null = null;

  /** Whether this store answers filters, candidates and neighbours from the EntryDirectory (SQLite only). */
  readonly useDirectory: boolean;

  /**
   * @param ds the app's data source (SQLite or PostgreSQL)
   * @param opts.directory use the in-process EntryDirectory on SQLite (default DIRECTORY_IN_PROCESS); ignored on PostgreSQL
   */
  constructor(
    private readonly ds: DataSource,
    opts: { directory?: boolean } = {},
  ) {
    this.pg = ds.options.type === 'postgres';
    this.useDirectory = !this.pg && (opts.directory ?? DIRECTORY_IN_PROCESS);
  }

  /**
   * The data source's EntryDirectory (SQLite), loaded from `memory_entries` on first use (one synchronous streamed
   * read: ~0.1-0.2 s at 100,000 rows, so no write can interleave with it).
   */
  private directory(): EntryDirectory {
    let dir = directories.get(this.ds);
    if (dir) return dir;
    dir = new EntryDirectory();
    const rows = this.sqlite()
      .prepare(`SELECT "num", "agentId", "type", "taskId", "sessionId", "source", "createdAt", "deletedAt" IS NULL FROM "memory_entries" ORDER BY "num"`)
      .raw()
      .iterate() as IterableIterator<[number, string | null, string, string | null, string | null, string, string, number]>;
    for (const r of rows) {
      dir.add(r[0], { agentId: r[1], type: r[2], taskId: r[3], sessionId: r[4], source: r[5], createdAt: r[6] });
      if (!r[7]) dir.markDeleted(r[0]);
    }
    directories.set(this.ds, dir);
    return dir;
  }

  /**
   * Detects the vector index (call once at boot). On PostgreSQL: uses pgvector when the extension is installed, or
   * runs `CREATE EXTENSION IF NOT EXISTS vector` when the server has it available (`pg_available_extensions`); a
   * server without it (or a role that may not create it) keeps the brute-force scan over `memory_vectors`.
   */
  async init(log: (msg: string) => void = () => undefined): Promise<void> {
    if (!this.pg) {
      // document frequency per term, read from the FTS index itself (a view, no data of its own)
      await this.ds.query(`CREATE VIRTUAL TABLE IF NOT EXISTS "memory_fts_vocab" USING fts5vocab("memory_fts", 'row')`);
      return;
    }
    const installed = async () => ((await this.ds.query(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`)) as unknown[]).length > 0;
    if (!(await installed())) {
      const available = ((await this.ds.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`)) as unknown[]).length > 0;
      if (available) {
        try {
          await this.ds.query('CREATE EXTENSION IF NOT EXISTS vector');
        } catch (err) {
          // another instance may have created it concurrently, or this role may not: recheck below
          log(`CREATE EXTENSION vector failed: ${(err as Error).message}`);
        }
      }
    }
    this.pgvector = await installed();
  }

  /** Which vector index serves KNN: sqlite-vec vec0, pgvector HNSW, or an exact scan (PostgreSQL without pgvector). */
  get vectorIndex(): 'sqlite-vec' | 'pgvector-hnsw' | 'brute-force' {
    if (!this.pg) return 'sqlite-vec';
    return this.pgvector ? 'pgvector-hnsw' : 'brute-force';
  }

  /** Builds a placeholder list: `p(values)` pushes and returns `?` / `$n`. */
  params(): { values: unknown[]; p(v: unknown): string } {
    const values: unknown[] = [];
    return {
      values,
      p: (v: unknown) => {
        values.push(v);
        return this.pg ? `$${values.length}` : '?';
      },
    };
  }

  /** Inserts an entry and its lexical index row (same transaction). Returns its `num`. */
  async insertEntry(m: EntityManager, e: NewMemoryRow): Promise<number> {
    const q = this.params();
    const cols = [e.id, e.content, e.type, e.source, e.agentId, e.taskId, e.sessionId, JSON.stringify(e.metadata), e.createdAt, e.subject, e.factKey, e.validFrom];
    const placeholders = cols.map((v) => q.p(v));
    const tsv = this.pg ? `, to_tsvector('english', ${q.p(e.content)})` : '';
    const rows = (await m.query(
      `INSERT INTO "memory_entries" ("id", "content", "type", "source", "agentId", "taskId", "sessionId", "metadata", "createdAt", "subject", "factKey", "validFrom"${this.pg ? ', "tsv"' : ''})
       VALUES (${placeholders.join(', ')}${tsv}) RETURNING "num"`,
      q.values,
    )) as { num: number | string }[];
    const num = Number(rows[0].num);
    if (!this.pg) {
      await m.query('INSERT INTO "memory_fts" (rowid, content) VALUES (?, ?)', [num, e.content]);
      docFreqs.get(this.ds)?.clear();
      // (not loaded yet: the first load reads this row from the table)
      directories.get(this.ds)?.add(num, e);
    }
    return num;
  }

  /** Soft-deletes: sets deletedAt, removes the lexical and vector index rows (the entry row and its vectors' table rows stay). */
  async softDelete(m: EntityManager, num: number, at: string): Promise<void> {
    const q = this.params();
    await m.query(`UPDATE "memory_entries" SET "deletedAt" = ${q.p(at)} WHERE "num" = ${q.p(num)}`, q.values);
    if (!this.pg) {
      await m.query('DELETE FROM "memory_fts" WHERE rowid = ?', [num]);
      docFreqs.get(this.ds)?.clear();
      for (const t of await this.listVecTables(m)) await m.query(`DELETE FROM "${t}" WHERE rowid = ${Math.trunc(num)}`);
      for (const idx of this.codeIndexMap().values()) idx.remove(Math.trunc(num));
      directories.get(this.ds)?.markDeleted(Math.trunc(num));
    } else if (this.pgvector) {
      for (const t of await this.listVecTables(m)) await m.query(`DELETE FROM "${t}" WHERE "entryNum" = ${Math.trunc(num)}`);
    }
  }

  async byId(id: string): Promise<MemoryRow | null> {
    const q = this.params();
    const rows = (await this.ds.query(`SELECT ${ENTRY_COLUMNS} FROM "memory_entries" WHERE "id" = ${q.p(id)}`, q.values)) as MemoryRow[];
    return rows[0] ?? null;
  }

  /** The ranking's view of candidates (num, session, source) among `nums` that pass the filters: no content read. */
  async candidateRows(nums: readonly number[], filters: MemoryFilters = {}): Promise<{ num: number; sessionId: string | null; source: string }[]> {
    if (nums.length === 0) return [];
    if (this.useDirectory) return this.directory().candidates(nums.map((n) => Math.trunc(n)), filters);
    const q = this.params();
    const where = this.filterSql(filters, q, 'e');
    const list = nums.map((n) => String(Math.trunc(n))).join(',');
    const rows = (await this.ds.query(`SELECT e."num", e."sessionId", e."source" FROM "memory_entries" e WHERE e."num" IN (${list}) AND ${where}`, q.values)) as {
      num: number | string;
      sessionId: string | null;
      source: string;
    }[];
    return rows.map((r) => ({ num: Number(r.num), sessionId: r.sessionId, source: r.source }));
  }

  async byNums(nums: readonly number[], filters: MemoryFilters = {}): Promise<MemoryRow[]> {
    if (nums.length === 0) return [];
    const q = this.params();
    if (!this.pg) {
      const ids = q.p(JSON.stringify(nums.map((n) => Math.trunc(n))));
      const where = this.filterSql(filters, q, 'e');
      return this.stmt(
        `SELECT ${ENTRY_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')} FROM "memory_entries" e WHERE e."num" IN (SELECT value FROM json_each(${ids})) AND ${where}`,
      ).all(...q.values) as MemoryRow[];
    }
    const where = this.filterSql(filters, q, 'e');
    const list = nums.map((n) => String(Math.trunc(n))).join(',');
    return (await this.ds.query(
      `SELECT ${ENTRY_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')} FROM "memory_entries" e WHERE e."num" IN (${list}) AND ${where}`,
      q.values,
    )) as MemoryRow[];
  }

  /** Models that have a vector for each of `nums`. */
  async modelsOf(nums: readonly number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    if (nums.length === 0) return out;
    const list = nums.map((n) => String(Math.trunc(n))).join(',');
    const rows = (
      this.pg
        ? await this.ds.query(`SELECT "entryNum", "model" FROM "memory_vectors" WHERE "entryNum" IN (${list})`)
        : this.stmt(`SELECT "entryNum", "model" FROM "memory_vectors" WHERE "entryNum" IN (SELECT value FROM json_each(?))`).all(`[${list}]`)
    ) as { entryNum: number | string; model: string }[];
    for (const r of rows) {
      const k = Number(r.entryNum);
      out.set(k, [...(out.get(k) ?? []), r.model]);
    }
    return out;
  }

  /**
   * SQL condition (always non-empty) for live entries matching `filters`; `alias` is the entries table alias.
   */
  filterSql(f: MemoryFilters, q: { p(v: unknown): string }, alias: string): string {
    const a = `${alias}.`;
    const parts = [`${a}"deletedAt" IS NULL`];
    if (f.type) parts.push(`${a}"type" = ${q.p(f.type)}`);
    if (f.agentId) {
      parts.push(f.includeShared ? `(${a}"agentId" = ${q.p(f.agentId)} OR ${a}"agentId" IS NULL)` : `${a}"agentId" = ${q.p(f.agentId)}`);
    }
    if (f.taskId) parts.push(`${a}"taskId" = ${q.p(f.taskId)}`);
    if (f.sessionId) parts.push(`${a}"sessionId" = ${q.p(f.sessionId)}`);
    if (f.source) parts.push(`${a}"source" = ${q.p(f.source)}`);
    if (f.from) parts.push(`${a}"createdAt" >= ${q.p(f.from)}`);
    if (f.to) parts.push(`${a}"createdAt" < ${q.p(f.to)}`);
    return parts.join(' AND ');
  }

  /**
   * Keyword search over the whole store after filters: BM25 (FTS5, porter stemming) on SQLite, `ts_rank` over the
   * english tsvector on PostgreSQL. Terms are ORed. Returns up to `limit` (num, score), best first.
   */
  async lexical(terms: readonly string[], filters: MemoryFilters, limit: number, maxPostings = LEXICAL_MAX_POSTINGS): Promise<{ num: number; score: number }[]> {
    let clean = [...new Set(terms.map((t) => t.replace(/[^a-z0-9]/g, '')).filter((t) => t.length > 0))];
    if (clean.length === 0) return [];
    if (!this.pg && clean.length > 1) clean = await this.capPostings(clean, maxPostings);
    const q = this.params();
    let rows: { num: number | string; score: number | string }[];
    if (this.pg) {
      const tsq = q.p(clean.join(' | '));
      const where = this.filterSql(filters, q, 'e');
      rows = (await this.ds.query(
        `SELECT e."num", ts_rank(e."tsv", query) AS score FROM "memory_entries" e, to_tsquery('english', ${tsq}) query
         WHERE e."tsv" @@ query AND ${where} ORDER BY score DESC, e."num" DESC LIMIT ${Math.trunc(limit)}`,
        q.values,
      )) as typeof rows;
    } else {
      const match = q.p(clean.map((t) => `"${t}"`).join(' OR '));
      const unfiltered = Object.entries(filters).every(([k, v]) => k === 'includeShared' || v === undefined || v === null || v === '');
      // no row lookups per match: a soft delete removes the FTS row, so an unfiltered search needs no join at all, and
      // a filtered one tests membership in the filtered set (read once from the live-row indexes; the unary + keeps
      // SQLite from handing the IN list to FTS5 as a rowid constraint, which would run the MATCH once per rowid)
      const scope = unfiltered ? '' : ` AND +"memory_fts".rowid IN (SELECT e."num" FROM "memory_entries" e WHERE ${this.filterSql(filters, q, 'e')})`;
      rows = this.stmt(
        `SELECT "memory_fts".rowid AS num, -bm25("memory_fts") AS score FROM "memory_fts"
         WHERE "memory_fts" MATCH ${match}${scope} ORDER BY bm25("memory_fts") LIMIT ${Math.trunc(limit)}`,
      ).all(...q.values) as typeof rows;
    }
    return rows.map((r) => ({ num: Number(r.num), score: Number(r.score) }));
  }

  /**
   * Limits the lexical candidate set (SQLite): keeps the query's rarest terms while their summed document frequency
   * stays within `maxPostings` (the rarest term is always kept). FTS5 ranks every match of an OR query, so a term
   * found in most of the store would cost a BM25 evaluation per document for the smallest idf of the query.
   * Document frequencies come from `memory_fts_vocab`, looked up by each term's stem as `memory_fts`'s own tokenizer
   * makes it (see ftsStems); a term the index does not know counts 0 (kept).
   */
  private async capPostings(terms: string[], maxPostings: number): Promise<string[]> {
    const stems = this.ftsStems(terms);
    let df = docFreqs.get(this.ds);
    if (!df) docFreqs.set(this.ds, (df = new Map()));
    const missing = [...new Set(stems.values())].filter((t) => !df!.has(t));
    if (missing.length > 0) {
      const q = this.params();
      const list = missing.map((t) => q.p(t)).join(', ');
      const rows = this.stmt(`SELECT "term", "doc" FROM "memory_fts_vocab" WHERE "term" IN (${list})`).all(...q.values) as { term: string; doc: number }[];
      if (df.size + missing.length > 50_000) df.clear();
      for (const t of missing) df.set(t, 0); // a stem the index does not know counts 0
      for (const r of rows) df.set(r.term, Number(r.doc));
    }
    const ordered = [...terms].sort((a, b) => (df.get(stems.get(a)!) ?? 0) - (df.get(stems.get(b)!) ?? 0));
    const kept: string[] = [];
    let sum = 0;
    for (const t of ordered) {
      const n = df.get(stems.get(t)!) ?? 0;
      if (kept.length > 0 && sum + n > maxPostings) break;
      kept.push(t);
      sum += n;
    }
    return kept;
  }

  /**
   * Each term's index form under `memory_fts`'s tokenizer (porter over unicode61), computed by SQLite itself: the terms
   * go through an FTS5 table with the same tokenizer on a private in-memory connection (microseconds; no stemmer of
   * our own that could disagree with the index).
   */
  private ftsStems(terms: readonly string[]): Map<string, string> {
    if (!this.tokenizer) {
      const db = new Database(':memory:');
      db.exec(`CREATE VIRTUAL TABLE t USING fts5(content, tokenize = 'porter unicode61 remove_diacritics 2'); CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance');`);
      const insert = db.prepare('INSERT INTO t (rowid, content) VALUES (?, ?)');
      const read = db.prepare('SELECT term, doc FROM v');
      const clear = db.prepare('DELETE FROM t');
      this.tokenizer = (words) =>
        db.transaction(() => {
          words.forEach((w, i) => insert.run(i + 1, w));
          const out = new Map<string, string>();
          for (const r of read.all() as { term: string; doc: number }[]) if (!out.has(words[r.doc - 1])) out.set(words[r.doc - 1], r.term);
          clear.run();
          return out;
        })();
    }
    const missing = terms.filter((t) => !stemCache.has(t));
    if (missing.length > 0) {
      const stems = this.tokenizer(missing);
      if (stemCache.size + missing.length > 50_000) stemCache.clear();
      for (const t of missing) stemCache.set(t, stems.get(t) ?? t);
    }
    return new Map(terms.map((t) => [t, stemCache.get(t) ?? t]));
  }

  /** Name of the KNN table of one model: vec0 on SQLite, a pgvector table on PostgreSQL. */
  vecTableName(model: string, dim: number): string {
    return `memory_vec_${fnv1a32(model).toString(16)}_${dim}`;
  }

  /** DDL of a model's KNN table: vec0 (cosine) on SQLite; `vector(dim)` + HNSW (cosine ops) with pgvector. */
  private vecTableDdl(name: string, dim: number): string[] {
    const d = Math.trunc(dim);
    if (!this.pg) {
      return [
        `CREATE VIRTUAL TABLE IF NOT EXISTS "${name}" USING vec0(embedding float[${d}] distance_metric=cosine)`,
        `CREATE TABLE IF NOT EXISTS "${bitsTableName(name)}" ("entryNum" INTEGER PRIMARY KEY, "bits" BLOB NOT NULL)`,
      ];
    }
    return [
      `CREATE TABLE IF NOT EXISTS "${name}" ("entryNum" bigint PRIMARY KEY, "embedding" vector(${d}) NOT NULL)`,
      // pgvector's HNSW indexes up to 2,000 dimensions; above that the exact scan below still answers
      ...(d <= 2000 ? [`CREATE INDEX IF NOT EXISTS "${name}_hnsw" ON "${name}" USING hnsw ("embedding" vector_cosine_ops)`] : []),
    ];
  }

  /** Creates the KNN table of a model if needed (null on PostgreSQL without pgvector). */
  async ensureVecTable(model: string, dim: number): Promise<string | null> {
    if (this.pg && !this.pgvector) return null;
    const name = this.vecTableName(model, dim);
    if (!this.vecTables.has(name)) {
      const bits = bitsTableName(name);
      const hadBits = !this.pg && ((await this.ds.query(`SELECT 1 FROM sqlite_master WHERE name = ?`, [bits])) as unknown[]).length > 0;
      for (const sql of this.vecTableDdl(name, dim)) await this.ds.query(sql);
      if (!this.pg && !hadBits) {
        // a store from before the binary codes: derive them once from the stored vectors
        await this.ds.query(
          `INSERT OR IGNORE INTO "${bits}" ("entryNum", "bits") SELECT v."entryNum", vec_quantize_binary(v."vector") FROM "memory_vectors" v JOIN "memory_entries" e ON e."num" = v."entryNum"
           WHERE v."model" = ? AND v."dim" = ? AND e."deletedAt" IS NULL`,
          [model, Math.trunc(dim)],
        );
      }
      this.vecTables.add(name);
    }
    return name;
  }

  /** Like ensureVecTable, inside a transaction (both dialects allow the DDL there). */
  async ensureVecTableInTx(m: EntityManager, model: string, dim: number): Promise<void> {
    if (this.pg && !this.pgvector) return;
    const name = this.vecTableName(model, dim);
    if (this.vecTables.has(name)) return;
    for (const sql of this.vecTableDdl(name, dim)) await m.query(sql);
  }

  private async listVecTables(m: EntityManager): Promise<string[]> {
    if (this.pg) {
      const rows = (await m.query(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'memory\\_vec\\_%'`)) as { name: string }[];
      return rows.map((r) => r.name);
    }
    const rows = (await m.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'memory_vec_%' AND (sql LIKE '%vec0%' OR name LIKE '%_bits')`)) as { name: string }[];
    return rows.map((r) => r.name);
  }

  /** Empties a model's KNN table (and on SQLite its binary codes); re-embedding drops the model's vectors first. */
  async clearVecTable(m: EntityManager, model: string, dim: number): Promise<void> {
    if (this.pg && !this.pgvector) return;
    const t = this.vecTableName(model, dim);
    const tables = await this.listVecTables(m);
    for (const name of [t, bitsTableName(t)]) if (tables.includes(name)) await m.query(`DELETE FROM "${name}"`);
    this.codeIndexMap().get(t)?.clear();
  }

  /**
   * The better-sqlite3 connection under TypeORM (SQLite has one): hot read paths prepare on it directly, so a 10,000-row
   * id list comes back as plain numbers (`pluck`) rather than one object per row through the driver.
   */
  private sqlite(): Database.Database {
    return (this.ds.driver as unknown as { databaseConnection: Database.Database }).databaseConnection;
  }

  /**
   * A prepared statement on the better-sqlite3 connection (SQLite), cached per connection by SQL text: the hot read
   * paths bind their values (IN lists as one JSON array through `json_each`), so their text is fixed per filter shape.
   */
  private stmt(sql: string): Database.Statement {
    const db = this.sqlite();
    let cache = statementCaches.get(db);
    if (!cache) statementCaches.set(db, (cache = new Map()));
    let st = cache.get(sql);
    if (!st) {
      if (cache.size >= 256) cache.clear();
      st = db.prepare(sql);
      cache.set(sql, st);
    }
    return st;
  }

  private codeIndexMap(): Map<string, SignCodeIndex> {
    let map = codeIndexes.get(this.ds);
    if (!map) {
      map = new Map();
      codeIndexes.set(this.ds, map);
    }
    return map;
  }

  /**
   * The in-process code index of a model table (SQLite), loaded from its bits table the first time. It is registered
   * before the load, so vectors written meanwhile are added by insertVectors (adding twice is idempotent).
   */
  private async codeIndex(table: string, model: string, dim: number): Promise<SignCodeIndex> {
    const map = this.codeIndexMap();
    const existing = map.get(table);
    if (existing) {
      if (this.codeLoads.has(table)) await this.codeLoads.get(table);
      return existing;
    }
    const idx = new SignCodeIndex(dim, VECTORS_IN_PROCESS);
    map.set(table, idx);
    const load = (async () => {
      if (!idx.keepVectors) {
        const rows = (await this.ds.query(`SELECT "entryNum", "bits" FROM "${bitsTableName(table)}"`)) as { entryNum: number; bits: Buffer }[];
        for (const r of rows) if (!idx.has(Number(r.entryNum))) idx.addBits(Number(r.entryNum), r.bits);
        return;
      }
      // the vectors themselves (the same set as the bits table: a live entry's vector of this model), streamed so
      // 100,000 blobs are never all in the heap at once
      const stmt = this.sqlite().prepare(
        `SELECT b."entryNum", v."vector" FROM "${bitsTableName(table)}" b JOIN "memory_vectors" v ON v."entryNum" = b."entryNum" AND v."model" = ?`,
      );
      for (const r of stmt.raw().iterate(model) as IterableIterator<[number, Buffer]>) {
        if (!idx.has(r[0])) idx.addVector(r[0], bytesToVector(r[1]));
      }
    })();
    this.codeLoads.set(table, load);
    try {
      await load;
    } finally {
      this.codeLoads.delete(table);
    }
    return idx;
  }

  /** Writes vectors of one model (idempotent: an existing (entry, model) vector is kept). Skips deleted entries. */
  async insertVectors(m: EntityManager, model: string, dim: number, items: { num: number; vector: Float32Array }[], at: string): Promise<number> {
    let written = 0;
    const table = this.pg && !this.pgvector ? null : this.vecTableName(model, dim);
    for (const it of items) {
      const q = this.params();
      const rows = (await m.query(
        `INSERT INTO "memory_vectors" ("entryNum", "model", "dim", "vector", "createdAt")
         SELECT ${q.p(it.num)}, ${q.p(model)}, ${q.p(dim)}, ${q.p(vectorToBytes(it.vector))}, ${q.p(at)}
         WHERE EXISTS (SELECT 1 FROM "memory_entries" WHERE "num" = ${q.p(it.num)} AND "deletedAt" IS NULL)
         ON CONFLICT ("entryNum", "model") DO NOTHING RETURNING "entryNum"`,
        q.values,
      )) as unknown[];
      if (rows.length === 0) continue;
      written++;
      if (table && this.pg) await m.query(`INSERT INTO "${table}" ("entryNum", "embedding") VALUES ($1, $2::vector) ON CONFLICT DO NOTHING`, [it.num, pgVectorLiteral(it.vector)]);
      else if (table) {
        const bytes = vectorToBytes(it.vector);
        await m.query(`INSERT INTO "${table}" (rowid, embedding) VALUES (${Math.trunc(it.num)}, ?)`, [bytes]);
        await m.query(`INSERT OR IGNORE INTO "${bitsTableName(table)}" ("entryNum", "bits") VALUES (${Math.trunc(it.num)}, vec_quantize_binary(?))`, [bytes]);
        // replaces whatever the slot holds: a code left by a rolled-back write of a reused num must not survive
        this.codeIndexMap().get(table)?.addVector(Math.trunc(it.num), it.vector);
      }
    }
    return written;
  }

  /**
   * Nearest live entries to `query` among vectors of `model`, after filters: (num, cosine similarity), best first.
   * SQLite: a coarse pass in process over the filtered set's sign-bit codes (Hamming distance; 48 bytes per 384-d
   * vector), then the exact cosine of the best RESCORE_CANDIDATES (so a filtered set of at most that many is ranked
   * exactly): in process from the kept float32 vectors (VECTORS_IN_PROCESS; the final k are re-checked in SQL
   * against `memory_vectors` and the filters, index lookups only), else sqlite-vec's `vec_distance_cosine` over the
   * stored floats. The vec0 table is kept in step for KNN by other readers. PostgreSQL with pgvector: HNSW KNN
   * (`<=>`, cosine distance), over-fetching when filtered, with the exact scan as the fallback when the filter keeps
   * fewer than `limit` of the approximate candidates. PostgreSQL without pgvector: reads the filtered set's vectors
   * and scans them in process.
   */
  async nearest(model: string, query: Float32Array, filters: MemoryFilters, limit: number): Promise<{ num: number; cosine: number }[]> {
    const k = Math.trunc(limit);
    const unfiltered = Object.entries(filters).every(([k, v]) => k === 'includeShared' || v === undefined || v === null || v === '');
    if (!this.pg) {
      const table = (await this.ensureVecTable(model, query.length))!;
      const idx = await this.codeIndex(table, model, query.length);
      const coarse = Math.max(RESCORE_CANDIDATES, 4 * k);
      // coarse pass in process: Hamming distance of the sign bits over the filtered set (its nums come from the live-row
      // indexes, no vector or code read from SQLite); then the exact cosine of the best `coarse` from the stored floats
      let among: number[] | null = null;
      if (!unfiltered && this.useDirectory) among = this.directory().filtered(filters);
      else if (!unfiltered) {
        const f = this.params();
        among = this.sqlite().prepare(`SELECT e."num" FROM "memory_entries" e WHERE ${this.filterSql(filters, f, 'e')}`).pluck().all(...f.values) as number[];
      }
      const candidates = idx.nearest(query, coarse, among);
      if (candidates.length === 0) return [];
      if (idx.keepVectors) return this.verifiedTop(idx.rescore(query, candidates), model, filters, k);
      const q = this.params();
      const vec = q.p(vectorToBytes(query));
      const mdl = q.p(model);
      // the filters again: a candidate deleted (or written by a rolled-back unit) since it entered the index drops here
      const where = this.filterSql(filters, q, 'e');
      const rows = this.sqlite()
        .prepare(
          `SELECT v."entryNum" AS num, COALESCE(vec_distance_cosine(v."vector", ${vec}), 1) AS distance FROM "memory_vectors" v CROSS JOIN "memory_entries" e
           WHERE v."entryNum" IN (${candidates.join(',')}) AND v."model" = ${mdl} AND e."num" = v."entryNum" AND ${where} ORDER BY distance LIMIT ${k}`,
        )
        .all(...q.values) as { num: number; distance: number | null }[];
      return rows.map((r) => ({ num: Number(r.num), cosine: r.distance === null ? 0 : 1 - r.distance }));
    }
    if (this.pgvector && query.length <= 2000) {
      const hits = await this.pgvectorKnn(model, query, filters, k, unfiltered);
      if (hits !== null) return hits;
    }
    const q = this.params();
    const mdl = q.p(model);
    const where = this.filterSql(filters, q, 'e');
    const rows = (await this.ds.query(
      `SELECT v."entryNum" AS num, v."vector" FROM "memory_vectors" v JOIN "memory_entries" e ON e."num" = v."entryNum" WHERE v."model" = ${mdl} AND ${where}`,
      q.values,
    )) as { num: string; vector: Buffer }[];
    const scored = rows.map((r) => ({ num: Number(r.num), cosine: dot(query, bytesToVector(r.vector)) }));
    scored.sort((a, b) => b.cosine - a.cosine);
    return scored.slice(0, k);
  }

  /**
   * The best `k` of `scored` (best first) that still have a vector of `model` and pass the filters in SQL (SQLite): the
   * in-process index can hold an entry whose write was rolled back or that was deleted since. Index-only lookups
   * (no vector read); checks the first k + 16 and, only if some drop, the rest.
   */
  private verifiedTop(scored: { num: number; cosine: number }[], model: string, filters: MemoryFilters, k: number): { num: number; cosine: number }[] {
    const out: { num: number; cosine: number }[] = [];
    const q = this.params();
    const mdl = q.p(model);
    const where = this.filterSql(filters, q, 'e');
    for (let from = 0; from < scored.length && out.length < k; ) {
      const chunk = scored.slice(from, from + (from === 0 ? k + 16 : 4 * k));
      from += chunk.length;
      const ok = new Set(
        this.stmt(
          `SELECT v."entryNum" FROM "memory_vectors" v CROSS JOIN "memory_entries" e
           WHERE v."entryNum" IN (SELECT value FROM json_each(?)) AND v."model" = ${mdl} AND e."num" = v."entryNum" AND ${where}`,
        )
          .pluck()
          .all(JSON.stringify(chunk.map((c) => Math.trunc(c.num))), ...q.values) as number[],
      );
      for (const c of chunk) if (ok.has(c.num) && out.length < k) out.push(c);
    }
    return out;
  }

  /**
   * pgvector HNSW KNN: `fetch` = k (unfiltered) or 10 x k (filtered, at most 1,000) approximate neighbours, then the
   * filters. `hnsw.ef_search` is raised to `fetch` for this query (the default 40 would cap the candidates).
   * @returns null when the filters kept fewer than k candidates (the caller scans the filtered set exactly).
   */
  private async pgvectorKnn(model: string, query: Float32Array, filters: MemoryFilters, k: number, unfiltered: boolean): Promise<{ num: number; cosine: number }[] | null> {
    const table = await this.ensureVecTable(model, query.length);
    if (!table) return null;
    const fetch = unfiltered ? k : Math.min(1000, k * 10);
    const q = this.params();
    const vec = q.p(pgVectorLiteral(query));
    const where = this.filterSql(filters, q, 'e');
    const rows = await this.ds.transaction(async (m) => {
      await m.query(`SET LOCAL hnsw.ef_search = ${Math.max(40, Math.min(1000, fetch))}`);
      return (await m.query(
        `SELECT x."entryNum" AS num, x.distance FROM (
           SELECT "entryNum", "embedding" <=> ${vec}::vector AS distance FROM "${table}" ORDER BY "embedding" <=> ${vec}::vector LIMIT ${fetch}
         ) x JOIN "memory_entries" e ON e."num" = x."entryNum" WHERE ${where} ORDER BY x.distance LIMIT ${k}`,
        q.values,
      )) as { num: number | string; distance: number | string }[];
    });
    if (!unfiltered && rows.length < k) return null;
    return rows.map((r) => ({ num: Number(r.num), cosine: 1 - Number(r.distance) }));
  }

  /** Previous and next live entry (by num) of the same session for each of `nums`. */
  async neighbors(nums: readonly number[]): Promise<Map<number, { prev: number | null; next: number | null }>> {
    const out = new Map<number, { prev: number | null; next: number | null }>();
    if (nums.length === 0) return out;
    if (this.useDirectory) return this.directory().neighbors(nums.map((n) => Math.trunc(n)));
    const list = nums.map((n) => String(Math.trunc(n))).join(',');
    const rows = (await this.ds.query(
      `SELECT c."num" AS num,
        (SELECT MAX(p."num") FROM "memory_entries" p WHERE p."sessionId" = c."sessionId" AND p."num" < c."num" AND p."deletedAt" IS NULL) AS prev,
        (SELECT MIN(n."num") FROM "memory_entries" n WHERE n."sessionId" = c."sessionId" AND n."num" > c."num" AND n."deletedAt" IS NULL) AS next
       FROM "memory_entries" c WHERE c."num" IN (${list}) AND c."sessionId" IS NOT NULL`,
    )) as { num: number | string; prev: number | string | null; next: number | string | null }[];
    for (const r of rows) out.set(Number(r.num), { prev: r.prev === null ? null : Number(r.prev), next: r.next === null ? null : Number(r.next) });
    return out;
  }

  /** Live entries without a vector of `model` with num > afterNum, oldest first (the embedding queue). */
  async pendingForModel(model: string, limit: number, afterNum = 0): Promise<{ num: number; content: string }[]> {
    const q = this.params();
    const rows = (await this.ds.query(
      `SELECT e."num", e."content" FROM "memory_entries" e WHERE e."num" > ${Math.trunc(afterNum)} AND e."deletedAt" IS NULL
       AND NOT EXISTS (SELECT 1 FROM "memory_vectors" v WHERE v."entryNum" = e."num" AND v."model" = ${q.p(model)})
       ORDER BY e."num" LIMIT ${Math.trunc(limit)}`,
      q.values,
    )) as { num: number | string; content: string }[];
    return rows.map((r) => ({ num: Number(r.num), content: r.content }));
  }

  async countPending(model: string): Promise<number> {
    const q = this.params();
    const rows = (await this.ds.query(
      `SELECT COUNT(*) AS n FROM "memory_entries" e WHERE e."deletedAt" IS NULL
       AND NOT EXISTS (SELECT 1 FROM "memory_vectors" v WHERE v."entryNum" = e."num" AND v."model" = ${q.p(model)})`,
      q.values,
    )) as { n: number | string }[];
    return Number(rows[0].n);
  }

  /** Distinct lowercase single-word sources (speaker names) of live entries. */
  async sources(): Promise<string[]> {
    const rows = (await this.ds.query(`SELECT DISTINCT "source" FROM "memory_entries" WHERE "deletedAt" IS NULL LIMIT 1000`)) as { source: string }[];
    return rows.map((r) => r.source.toLowerCase()).filter((s) => /^[a-z0-9]+$/.test(s));
  }
}

/** The binary-code table beside a model's vec0 table (SQLite): sign bits of each vector, for the coarse pass. */
function bitsTableName(vecTable: string): string {
  return `${vecTable}_bits`;
}

/** A vector as pgvector's text input (`[0.1,0.2,...]`). */
export function pgVectorLiteral(v: Float32Array): string {
  return `[${Array.from(v, (x) => (Number.isFinite(x) ? x : 0)).join(',')}]`;
}

function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let s = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : s / Math.sqrt(na * nb);
}

/** Row -> wire DTO. */
export function toDto(r: MemoryRow, models: string[] = []): MemoryEntryDto {
  let metadata: Record<string, unknown> = {};
  try {
    metadata = JSON.parse(r.metadata) as Record<string, unknown>;
  } catch {
    /* stored by us as JSON; keep {} if not */
  }
  return {
    id: r.id,
    content: r.content,
    type: r.type,
    source: r.source,
    agentId: r.agentId,
    taskId: r.taskId,
    sessionId: r.sessionId,
    metadata,
    createdAt: r.createdAt,
    subject: r.subject,
    factKey: r.factKey,
    validFrom: r.validFrom,
    validTo: r.validTo,
    supersededBy: r.supersededBy,
    embeddedModels: models,
    deletedAt: r.deletedAt,
  };
}
