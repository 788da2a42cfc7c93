import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * Task budgets: `tasks.budgetSats` (integer sats, NULL = no budget). A bid above it is refused
 * (`swarm/bid_over_budget`). Dialect-neutral (SQLite and PostgreSQL); existing tasks get no budget.
 */
export class TaskBudget1764400000010 implements MigrationInterface {
  name = 'TaskBudget1764400000010';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('tasks', new TableColumn({ name: 'budgetSats', type: 'integer', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('tasks', 'budgetSats');
  }
}
