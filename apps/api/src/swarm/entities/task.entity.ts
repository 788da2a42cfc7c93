import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TaskStatus } from '@app/contracts';

/** A unit of work (`tasks`): pending -> bidding -> assigned -> running -> completed | failed | cancelled. */
@Entity({ name: 'tasks' })
export class TaskEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'text' }) description: string;
  @Column({ type: 'varchar', length: 16 }) status: TaskStatus;
  @Column({ type: 'varchar', length: 64, nullable: true }) assignedAgentId: string | null;
  @Column({ type: 'integer', nullable: true }) winningBidSats: number | null;
  /** Most a bid may ask (integer sats); null = no budget. */
  @Column({ type: 'integer', nullable: true }) budgetSats: number | null;
  @Column({ type: 'text', nullable: true }) result: string | null;
  @Column({ type: 'text', nullable: true }) failureReason: string | null;
  @Column({ type: 'varchar', length: 100, nullable: true }) createdBy: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) auctionClosesAt: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) assignedAt: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) startedAt: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) completedAt: string | null;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
  /** The instance (`instances.id`) executing a persona's task while it runs; null otherwise (ADR 0061). */
  @Column({ type: 'varchar', length: 64, nullable: true }) runningOn: string | null;
}
