import { randomUUID } from 'node:crypto';
import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

const id = (length = 36): TableColumnOptions => ({ name: 'id', type: 'varchar', length: String(length), isPrimary: true });
const str = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});
const ts = (name: string, nullable = false) => str(name, 30, nullable);
const text = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'text', isNullable: nullable });
const bool = (name: string): TableColumnOptions => ({ name, type: 'boolean', default: false });
const int = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'integer', isNullable: nullable });

/** Creates every table of the backbone: event log + meta, auth, swarm. Dialect-neutral (SQLite and PostgreSQL). */
export class Initial1763700000000 implements MigrationInterface {
  name = 'Initial1763700000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';

    await q.createTable(
      new Table({
        name: 'event_log',
        columns: [
          { name: 'seq', type: pg ? 'bigint' : 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          str('id', 36),
          str('type', 64),
          str('source', 100),
          str('channel', 32),
          str('taskId', 64, true),
          str('agentId', 64, true),
          { name: 'data', type: pg ? 'jsonb' : 'text', isNullable: false },
          ts('createdAt'),
        ],
        uniques: [{ name: 'UQ_event_log_id', columnNames: ['id'] }],
        indices: [
          { name: 'IDX_event_log_type', columnNames: ['type'] },
          { name: 'IDX_event_log_task', columnNames: ['taskId'] },
          { name: 'IDX_event_log_agent', columnNames: ['agentId'] },
          { name: 'IDX_event_log_created', columnNames: ['createdAt'] },
          { name: 'IDX_event_log_channel_seq', columnNames: ['channel', 'seq'] },
        ],
      }),
    );
    await q.createTable(new Table({ name: 'meta', columns: [{ ...str('key', 64), isPrimary: true }, text('value')] }));
    await q.query(`INSERT INTO meta (${q.connection.driver.escape('key')}, value) VALUES ('epoch', '${randomUUID()}')`);
    await q.query(`INSERT INTO meta (${q.connection.driver.escape('key')}, value) VALUES ('pruned_through_seq', '0')`);

    await q.createTable(
      new Table({
        name: 'users',
        columns: [id(), str('username', 64), str('passwordHash', 255), str('role', 16), bool('disabled'), ts('createdAt'), ts('updatedAt')],
        uniques: [{ name: 'UQ_users_username', columnNames: ['username'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          id(),
          str('label', 100),
          str('role', 16),
          str('prefix', 16),
          str('keyHash', 64),
          str('userId', 36, true),
          str('agentId', 64, true),
          ts('createdAt'),
          ts('updatedAt'),
          ts('lastUsedAt', true),
          ts('revokedAt', true),
        ],
        uniques: [{ name: 'UQ_api_keys_hash', columnNames: ['keyHash'] }],
        indices: [{ name: 'IDX_api_keys_agent', columnNames: ['agentId'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [id(), str('tokenHash', 64), str('userId', 36), ts('createdAt'), ts('updatedAt'), ts('expiresAt')],
        uniques: [{ name: 'UQ_sessions_token', columnNames: ['tokenHash'] }],
        indices: [{ name: 'IDX_sessions_user', columnNames: ['userId'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'agents',
        columns: [
          id(64),
          str('name', 64),
          str('kind', 16),
          str('personaId', 16, true),
          text('capabilities'),
          str('status', 16),
          str('lifecycle', 16, true),
          ts('lifecycleSince', true),
          ts('lastHeartbeatAt', true),
          ts('createdAt'),
          ts('updatedAt'),
        ],
        uniques: [{ name: 'UQ_agents_name', columnNames: ['name'] }],
        indices: [{ name: 'IDX_agents_status', columnNames: ['status'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'tasks',
        columns: [
          id(),
          text('description'),
          str('status', 16),
          str('assignedAgentId', 64, true),
          int('winningBidSats', true),
          text('result', true),
          text('failureReason', true),
          str('createdBy', 100, true),
          ts('auctionClosesAt', true),
          ts('createdAt'),
          ts('assignedAt', true),
          ts('startedAt', true),
          ts('completedAt', true),
          ts('updatedAt'),
        ],
        indices: [
          { name: 'IDX_tasks_status', columnNames: ['status'] },
          { name: 'IDX_tasks_agent', columnNames: ['assignedAgentId'] },
          { name: 'IDX_tasks_created', columnNames: ['createdAt'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'bids',
        columns: [id(), str('taskId', 36), str('agentId', 64), int('bidSats'), bool('won'), ts('createdAt'), ts('updatedAt')],
        uniques: [{ name: 'UQ_bids_task_agent', columnNames: ['taskId', 'agentId'] }],
        indices: [{ name: 'IDX_bids_agent', columnNames: ['agentId'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'agent_messages',
        columns: [
          id(),
          str('fromAgentId', 64, true),
          str('toAgentId', 64),
          text('body'),
          str('status', 16),
          ts('createdAt'),
          ts('deliveredAt', true),
          ts('updatedAt'),
        ],
        indices: [{ name: 'IDX_agent_messages_to', columnNames: ['toAgentId', 'status'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'operator_questions',
        columns: [
          id(),
          str('agentId', 64, true),
          str('taskId', 36, true),
          text('question'),
          text('options'),
          bool('multiple'),
          ts('deadline', true),
          str('status', 16),
          text('answer', true),
          str('answeredBy', 100, true),
          ts('createdAt'),
          ts('resolvedAt', true),
          ts('updatedAt'),
        ],
        indices: [{ name: 'IDX_operator_questions_status', columnNames: ['status'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['operator_questions', 'agent_messages', 'bids', 'tasks', 'agents', 'sessions', 'api_keys', 'users', 'meta', 'event_log']) {
      await q.dropTable(t, true);
    }
  }
}
