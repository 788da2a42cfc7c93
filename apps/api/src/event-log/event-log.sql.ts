import type { EventEnvelope } from '@app/contracts';
import { DataSource, type EntityManager } from 'typeorm';

/** An `event_log` row as the drivers return it (bigint seq as string on PostgreSQL, data as text on SQLite). */
export interface RawEventRow {
  seq: number | string;
  id: string;
  type: string;
  source: string;
  channel: string;
  taskId: string | null;
  agentId: string | null;
  data: string | Record<string, unknown>;
  createdAt: string;
  hash?: string | null;
}

/**
 * Normalises an ISO-8601 instant (any zone offset, or a bare date = UTC midnight) to the stored form
 * `YYYY-MM-DDTHH:mm:ss.sssZ`, so string comparison on `createdAt` compares instants. Unparseable input is
 * returned unchanged (the DTOs reject it before it gets here).
 */
export function toStoredIso(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

/** The envelope of a raw row. */
export function toEnvelope(r: RawEventRow): EventEnvelope {
  return {
    seq: Number(r.seq),
    id: r.id,
    type: r.type,
    source: r.source,
    channel: r.channel,
    taskId: r.taskId,
    agentId: r.agentId,
    data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data,
    createdAt: r.createdAt,
  } as EventEnvelope;
}

/** The two SQL dialects of the log (SQLite through better-sqlite3, PostgreSQL through pg): quoting and placeholders. */
export class SqlDialect {
  readonly isPg: boolean;

  constructor(dataSource: DataSource) {
    this.isPg = dataSource.options.type === 'postgres';
  }

  /** A quoted identifier (both dialects accept double quotes). */
  q(col: string): string {
    return `"${col}"`;
  }

  /** The i-th (1-based) bind placeholder. */
  param(i: number): string {
    return this.isPg ? `$${i}` : '?';
  }

  /** The integer type for CASTs. */
  get bigint(): string {
    return this.isPg ? 'bigint' : 'integer';
  }
}

/**
 * Runs an UPDATE/DELETE and returns how many rows it changed (TypeORM's structured query result: better-sqlite3's
 * `changes`, PostgreSQL's `rowCount`). With an EntityManager of a unit of work it runs in that transaction;
 * with a DataSource, on a query runner of its own.
 */
export async function execAffected(on: EntityManager | DataSource, sql: string, params: unknown[]): Promise<number> {
  const own = 'queryRunner' in on && on.queryRunner ? on.queryRunner : null;
  const qr = own ?? (on instanceof DataSource ? on : on.connection).createQueryRunner();
  try {
    const result = await qr.query(sql, params, true);
    return result.affected ?? 0;
  } finally {
    if (!own) await qr.release();
  }
}
