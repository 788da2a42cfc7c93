import { QueryFailedError } from 'typeorm';

/**
 * Whether a database error is a unique-constraint violation: PostgreSQL SQLSTATE 23505 (`unique_violation`, PostgreSQL
 * docs appendix A) or SQLite's SQLITE_CONSTRAINT_UNIQUE / SQLITE_CONSTRAINT_PRIMARYKEY (better-sqlite3 `code`).
 * Used where two instances may insert the same natural key at once and the loser must answer as if it had come
 * second (replay or 409), not with a 500.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const code = (err.driverError as { code?: string } | undefined)?.code ?? (err as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
