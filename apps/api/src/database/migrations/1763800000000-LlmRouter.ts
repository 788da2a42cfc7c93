import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

const str = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable });
const big = (name: string): TableColumnOptions => ({ name, type: 'bigint', isNullable: false, default: 0 });
const int = (name: string): TableColumnOptions => ({ name, type: 'integer', isNullable: false, default: 0 });
const real = (name: string): TableColumnOptions => ({ name, type: 'real', isNullable: true });

/** LLM router: provider state + totals (`llm_providers`) and per-bucket history (`provider_metrics`). Dialect-neutral. */
export class LlmRouter1763800000000 implements MigrationInterface {
  name = 'LlmRouter1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'llm_providers',
        columns: [
          { ...str('name', 64), isPrimary: true },
          str('type', 16),
          str('tier', 8),
          { name: 'enabledOverride', type: 'boolean', isNullable: true },
          str('circuitState', 16),
          str('circuitOpenedAt', 30, true),
          int('consecutiveFailures'),
          big('requests'),
          big('successes'),
          big('failures'),
          big('latencySumMs'),
          big('tokensIn'),
          big('tokensOut'),
          big('costMicroUsd'),
          str('costDay', 10),
          big('costTodayMicroUsd'),
          { name: 'latencySamples', type: 'text', isNullable: false },
          str('lastErrorAt', 30, true),
          str('lastError', 300, true),
          str('lastSuccessAt', 30, true),
          str('createdAt', 30),
          str('updatedAt', 30),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'provider_metrics',
        columns: [
          { ...str('provider', 64), isPrimary: true },
          { ...str('bucketStart', 30), isPrimary: true },
          int('requests'),
          int('successes'),
          int('failures'),
          big('latencySumMs'),
          real('p50'),
          real('p95'),
          real('p99'),
          big('tokensIn'),
          big('tokensOut'),
          big('costMicroUsd'),
          str('createdAt', 30),
          str('updatedAt', 30),
        ],
        indices: [{ name: 'IDX_provider_metrics_bucket', columnNames: ['bucketStart'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('provider_metrics');
    await q.dropTable('llm_providers');
  }
}
