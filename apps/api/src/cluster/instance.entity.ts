import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One running API process (`instances`): its lease on the work it owns. `leaseUntil` (ISO-8601 UTC, ms) is renewed
 * every INSTANCE_HEARTBEAT_MS; a row whose lease has passed belongs to a process that is gone, and the first survivor
 * to delete it (a conditional delete) reclaims that process's work (ADR 0061).
 */
@Entity({ name: 'instances' })
export class InstanceEntity {
  /** Random per process start (uuid v4). */
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  /** os.hostname() of the process. */
  @Column({ type: 'varchar', length: 255 }) host: string;
  @Column({ type: 'integer' }) pid: number;
  /** INSTANCE_NAME when configured (a stable name across restarts, e.g. the compose service), else null. */
  @Column({ type: 'varchar', length: 100, nullable: true }) name: string | null;
  @Column({ type: 'varchar', length: 30 }) startedAt: string;
  @Column({ type: 'varchar', length: 30 }) leaseUntil: string;
}
