import type { EventEnvelope } from '@app/contracts';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';

/** `prev` hash of the first event of a log that never pruned anything: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical encoding of one `event_log` row: RFC 8785 JSON Canonicalization Scheme (JCS, via `canonicalize`)
 * of `{ seq, id, type, source, channel, taskId, agentId, data, createdAt }`. Independent of the database's own
 * storage (PostgreSQL jsonb reorders keys; SQLite keeps text), so a row read back encodes to the same bytes.
 */
export function canonicalEventRow(e: EventEnvelope): string {
  const row = {
    seq: e.seq,
    id: e.id,
    type: e.type,
    source: e.source,
    channel: e.channel,
    taskId: e.taskId,
    agentId: e.agentId,
    data: e.data,
    createdAt: e.createdAt,
  };
  const encoded = canonicalize(row);
  if (encoded === undefined) throw new Error(`event ${e.seq} cannot be canonicalised`);
  return encoded;
}

/**
 * One link of the tamper-evident chain: `sha256(prevHash || "\n" || canonicalEventRow(e))`, lowercase hex.
 * `prevHash` is the hash of the row with the next lower seq (GENESIS_HASH for the first row ever; after retention,
 * the hash recorded in `meta.chain_base_hash` for the last pruned row).
 */
export function chainHash(prevHash: string, e: EventEnvelope): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalEventRow(e)).digest('hex');
}
