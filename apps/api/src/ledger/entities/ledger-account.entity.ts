import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { LedgerAccountKind } from '@app/contracts';

/** PostgreSQL returns bigint as a string, SQLite as a number: both read as a JS number (msat, safe integers). */
export const msatColumn = { to: (v: number) => v, from: (v: string | number | null) => (v === null ? 0 : Number(v)) };
/** Same for nullable bigint columns. */
export const nullableMsatColumn = { to: (v: number | null) => v, from: (v: string | number | null) => (v === null ? null : Number(v)) };

/**
 * One ledger account (`ledger_accounts`) with totals maintained in the same transaction as every transfer, so a
 * balance read is one row. Ids: `node`, `treasury`, `fees`, `agent:<agentId>`. All totals in msat.
 */
@Entity({ name: 'ledger_accounts' })
export class LedgerAccountEntity {
  @PrimaryColumn({ type: 'varchar', length: 80 }) id: string;
  @Column({ type: 'varchar', length: 16 }) kind: LedgerAccountKind;
  @Column({ type: 'varchar', length: 64, nullable: true }) agentId: string | null;
  /** When true, debits posted + pending may never exceed credits posted. */
  @Column({ type: 'boolean' }) noNegative: boolean;
  @Column({ type: 'bigint', transformer: msatColumn }) debitsPosted: number;
  @Column({ type: 'bigint', transformer: msatColumn }) creditsPosted: number;
  @Column({ type: 'bigint', transformer: msatColumn }) debitsPending: number;
  @Column({ type: 'bigint', transformer: msatColumn }) creditsPending: number;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
