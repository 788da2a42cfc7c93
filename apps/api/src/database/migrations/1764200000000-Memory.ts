import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Semantic memory: `memory_entries` (+ fact fields), its lexical index and `memory_vectors`.
 * - SQLite: `memory_fts` is a contentless FTS5 table (porter stemming over unicode61, rowid = `memory_entries.num`,
 *   deletable); vec0 KNN tables per embedder model are created at run time (their dimension depends on the model).
 * - PostgreSQL: a `tsv` tsvector column (english config: stemming + stop words) with a GIN index.
 * `num` is the integer key the FTS/vector rows join on; `id` (uuid) is the public id.
 * One open fact per (subject, factKey): a partial unique index, so concurrent writers cannot both keep a fact open.
 */
export class Memory1764200000000 implements MigrationInterface {
  name = 'Memory1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const key = pg ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    const blob = pg ? 'BYTEA' : 'BLOB';
    await q.query(`CREATE TABLE "memory_entries" (
      "num" ${key},
      "id" varchar(36) NOT NULL UNIQUE,
      "content" text NOT NULL,
      "type" varchar(16) NOT NULL,
      "source" varchar(100) NOT NULL,
      "agentId" varchar(64),
      "taskId" varchar(64),
      "sessionId" varchar(128),
      "metadata" text NOT NULL,
      "createdAt" varchar(30) NOT NULL,
      "subject" varchar(200),
      "factKey" varchar(200),
      "validFrom" varchar(30),
      "validTo" varchar(30),
      "supersededBy" varchar(36),
      "deletedAt" varchar(30)
      ${pg ? ', "tsv" tsvector NOT NULL' : ''}
    )`);
    await q.query(`CREATE INDEX "idx_memory_agent" ON "memory_entries" ("agentId", "createdAt")`);
    await q.query(`CREATE INDEX "idx_memory_session" ON "memory_entries" ("sessionId", "num")`);
    await q.query(`CREATE INDEX "idx_memory_task" ON "memory_entries" ("taskId")`);
    await q.query(`CREATE INDEX "idx_memory_type" ON "memory_entries" ("type", "createdAt")`);
    await q.query(`CREATE INDEX "idx_memory_created" ON "memory_entries" ("createdAt")`);
    await q.query(`CREATE INDEX "idx_memory_fact" ON "memory_entries" ("subject", "factKey", "validFrom")`);
    await q.query(
      `CREATE UNIQUE INDEX "uq_memory_open_fact" ON "memory_entries" ("subject", "factKey") WHERE "type" = 'fact' AND "validTo" IS NULL AND "deletedAt" IS NULL`,
    );
    await q.query(`CREATE TABLE "memory_vectors" (
      "entryNum" bigint NOT NULL,
      "model" varchar(200) NOT NULL,
      "dim" integer NOT NULL,
      "vector" ${blob} NOT NULL,
      "createdAt" varchar(30) NOT NULL,
      PRIMARY KEY ("entryNum", "model")
    )`);
    await q.query(`CREATE INDEX "idx_memory_vectors_model" ON "memory_vectors" ("model", "entryNum")`);
    if (pg) {
      await q.query(`CREATE INDEX "idx_memory_tsv" ON "memory_entries" USING GIN ("tsv")`);
    } else {
      await q.query(
        `CREATE VIRTUAL TABLE "memory_fts" USING fts5(content, tokenize = 'porter unicode61 remove_diacritics 2', content = '', contentless_delete = 1)`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    if (!pg) await q.query(`DROP TABLE IF EXISTS "memory_fts"`);
    await q.query(`DROP TABLE IF EXISTS "memory_vectors"`);
    await q.query(`DROP TABLE IF EXISTS "memory_entries"`);
  }
}
