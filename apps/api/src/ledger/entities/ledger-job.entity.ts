import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A scheduled ledger job (`ledger_jobs`): an instance runs it only after claiming `nextRunAt` with a conditional update. */
@Entity({ name: 'ledger_jobs' })
export class LedgerJobEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 }) name: string;
  @Column({ type: 'varchar', length: 30 }) nextRunAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) lastRunAt: string | null;
  /** JSON summary of the last run. */
  @Column({ type: 'text', nullable: true }) lastResult: string | null;
}
