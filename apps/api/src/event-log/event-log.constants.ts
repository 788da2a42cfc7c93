/** Max units (state changes with their events) committed in one transaction. */
export const MAX_UNITS_PER_COMMIT = 2000;
/** Rows per multi-row INSERT statement. */
export const INSERT_CHUNK_ROWS = 200;
/** Key of the PostgreSQL transaction-level advisory lock that serialises appends across instances. */
export const PG_APPEND_LOCK_KEY = 7_316_001;
/** Max seqs deleted per retention unit of work (each chunk is its own group-committed unit). */
export const PRUNE_CHUNK_ROWS = 5000;
