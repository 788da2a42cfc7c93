import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

const str = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable });
const text = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'text', isNullable: nullable });
const int = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'integer', isNullable: nullable });
const big = (name: string): TableColumnOptions => ({ name, type: 'bigint', isNullable: true });
const bool = (name: string): TableColumnOptions => ({ name, type: 'boolean', isNullable: false });

/** Upgrade queue: proposals (`upgrades`) and their decision audit (`upgrade_decisions`). Dialect-neutral. */
export class UpgradeQueue1764300000000 implements MigrationInterface {
  name = 'UpgradeQueue1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'upgrades',
        columns: [
          { ...str('id', 36), isPrimary: true },
          str('state', 16),
          str('phase', 16, true),
          str('kind', 8),
          str('title', 200),
          text('rationale'),
          str('branch', 255, true),
          str('proposedByAgentId', 64, true),
          str('proposedBy', 100),
          str('targetBranch', 255),
          str('baseCommit', 64),
          str('headCommit', 64),
          str('diffSha256', 64),
          text('diff'),
          text('files'),
          int('linesAdded'),
          int('linesRemoved'),
          bool('requiresAdmin'),
          int('requiredApprovals'),
          str('expiresAt', 30, true),
          big('queuePosition'),
          int('attempt'),
          str('claimedBy', 100, true),
          big('leaseUntilMs'),
          str('testedOnCommit', 64, true),
          str('mergeCommit', 64, true),
          str('previousHead', 64, true),
          text('testOutput'),
          bool('testOutputTruncated'),
          text('healthOutput'),
          int('exitCode', true),
          str('failureReason', 32, true),
          text('failureMessage', true),
          text('conflicts'),
          str('createdAt', 30),
          str('updatedAt', 30),
          str('testStartedAt', 30, true),
          str('finishedAt', 30, true),
        ],
        indices: [
          { name: 'IDX_upgrades_state', columnNames: ['state'] },
          { name: 'IDX_upgrades_queue', columnNames: ['state', 'queuePosition'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'upgrade_decisions',
        columns: [
          { ...str('id', 36), isPrimary: true },
          str('upgradeId', 36),
          str('action', 16),
          str('by', 100),
          str('role', 16),
          str('diffSha256', 64),
          text('comment', true),
          bool('active'),
          str('createdAt', 30),
        ],
        indices: [{ name: 'IDX_upgrade_decisions_upgrade', columnNames: ['upgradeId', 'createdAt'] }],
        foreignKeys: [{ columnNames: ['upgradeId'], referencedTableName: 'upgrades', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('upgrade_decisions');
    await q.dropTable('upgrades');
  }
}
