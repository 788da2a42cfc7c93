import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { CircuitState } from '@app/contracts';

/** pg returns bigint as string; sqlite as number. */
export const bigintToNumber = { to: (v: number) => v, from: (v: string | number | null) => (v === null ? 0 : Number(v)) };

/**
 * Persisted state and running totals of one configured provider (`llm_providers`), written by the router's periodic
 * flush so a restart keeps metrics, circuit state and operator overrides. Costs in micro-USD, latency in ms.
 */
@Entity({ name: 'llm_providers' })
export class LlmProviderEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) name: string;
  @Column({ type: 'varchar', length: 16 }) type: string;
  @Column({ type: 'varchar', length: 8 }) tier: string;
  /** Operator override of the config's `enabled`; null = as configured. */
  @Column({ type: 'boolean', nullable: true }) enabledOverride: boolean | null;
  @Column({ type: 'varchar', length: 16 }) circuitState: CircuitState;
  @Column({ type: 'varchar', length: 30, nullable: true }) circuitOpenedAt: string | null;
  @Column({ type: 'integer' }) consecutiveFailures: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) requests: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) successes: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) failures: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) latencySumMs: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) tokensIn: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) tokensOut: number;
  @Column({ type: 'bigint', transformer: bigintToNumber }) costMicroUsd: number;
  @Column({ type: 'varchar', length: 10 }) costDay: string;
  @Column({ type: 'bigint', transformer: bigintToNumber }) costTodayMicroUsd: number;
  /** JSON array of recent latencies (ms) for percentiles after a restart. */
  @Column({ type: 'text' }) latencySamples: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) lastErrorAt: string | null;
  @Column({ type: 'varchar', length: 300, nullable: true }) lastError: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) lastSuccessAt: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
