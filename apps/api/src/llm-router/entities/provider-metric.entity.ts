import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from './llm-provider.entity';

/** One time bucket of one provider's traffic (`provider_metrics`): the latency-over-time history. */
@Entity({ name: 'provider_metrics' })
export class ProviderMetricEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) provider: string;
  /** Bucket start, ISO time. */
  @PrimaryColumn({ type: 'varchar', length: 30 }) bucketStart: string;
  @Column({ type: 'integer' }) requests: number;
  @Column({ type: 'integer' }) successes: number;
  @Column({ type: 'integer' }) failures: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) latencySumMs: number;
  @Column({ type: 'real', nullable: true }) p50: number | null;
  @Column({ type: 'real', nullable: true }) p95: number | null;
  @Column({ type: 'real', nullable: true }) p99: number | null;
  @Column({ type: 'bigint', transformer: bigintToNumber }) tokensIn: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) tokensOut: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) costMicroUsd: number;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
