import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/**
 * Instance leases (ADR 0061): `instances` (one row per running API process, lease renewed by heartbeat) and
 * `tasks.runningOn`, the instance executing a persona's task (null for external agents' tasks, which their agent owns).
 */
export class InstanceLeases1764500000000 implements MigrationInterface {
  name = 'InstanceLeases1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'instances',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'host', type: 'varchar', length: '255', isNullable: false },
          { name: 'pid', type: 'integer', isNullable: false },
          { name: 'name', type: 'varchar', length: '100', isNullable: true },
          { name: 'startedAt', type: 'varchar', length: '30', isNullable: false },
          { name: 'leaseUntil', type: 'varchar', length: '30', isNullable: false },
        ],
      }),
    );
    await q.addColumn('tasks', new TableColumn({ name: 'runningOn', type: 'varchar', length: '64', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('tasks', 'runningOn');
    await q.dropTable('instances');
  }
}
