import { Logger } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as sqliteVec from 'sqlite-vec';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { WAL_AUTOCHECKPOINT_PAGES_WITH_THREAD, WAL_CHECKPOINT_INTERVAL_MS, WalCheckpointer } from './wal-checkpointer';
import { ApiKeyEntity } from '../auth/api-key.entity';
import { SessionEntity } from '../auth/session.entity';
import { UserEntity } from '../auth/user.entity';
import { AgentMessageEntity } from '../swarm/entities/agent-message.entity';
import { AgentEntity } from '../swarm/entities/agent.entity';
import { BidEntity } from '../swarm/entities/bid.entity';
import { OperatorQuestionEntity } from '../swarm/entities/operator-question.entity';
import { TaskEntity } from '../swarm/entities/task.entity';
import { Initial1763700000000 } from './migrations/1763700000000-Initial';
import { LlmRouter1763800000000 } from './migrations/1763800000000-LlmRouter';
import { Seams1764000000000 } from './migrations/1764000000000-Seams';
import { Memory1764200000000 } from './migrations/1764200000000-Memory';
import { MemoryLiveIndexes1764200000001 } from './migrations/1764200000001-MemoryLiveIndexes';
import { UpgradeQueue1764300000000 } from './migrations/1764300000000-UpgradeQueue';
import { TaskBudget1764400000010 } from './migrations/1764400000010-TaskBudget';
import { UpgradeDecisionEntity } from '../upgrade-queue/entities/upgrade-decision.entity';
import { UpgradeEntity } from '../upgrade-queue/entities/upgrade.entity';
import { LlmProviderEntity } from '../llm-router/entities/llm-provider.entity';
import { ProviderMetricEntity } from '../llm-router/entities/provider-metric.entity';
import { LedgerAccountEntity } from '../ledger/entities/ledger-account.entity';
import { LedgerTransactionEntity } from '../ledger/entities/ledger-transaction.entity';
import { LedgerTransferEntity } from '../ledger/entities/ledger-transfer.entity';
import { MockInvoiceEntity, MockNodeKeyEntity, MockPaymentEntity } from '../ledger/entities/mock-node.entity';
import { Ledger1764100000000 } from './migrations/1764100000000-Ledger';
import { LedgerJobs1764100000001 } from './migrations/1764100000001-LedgerJobs';
import { LedgerJobEntity } from '../ledger/entities/ledger-job.entity';
import { InstanceEntity } from '../cluster/instance.entity';
import { InstanceLeases1764500000000 } from './migrations/1764500000000-InstanceLeases';
import { L402Redemptions1764600000000 } from './migrations/1764600000000-L402Redemptions';
import { LedgerTxTotals1764700000000 } from './migrations/1764700000000-LedgerTxTotals';
import { LedgerPartialIndexes1764700000001 } from './migrations/1764700000001-LedgerPartialIndexes';
import { L402RedemptionEntity } from '../ledger/l402/l402-redemption.entity';

/** Every entity; modules register their own with forFeature, this list is for the root connection. */
export const ENTITIES = [
  UserEntity,
  ApiKeyEntity,
  SessionEntity,
  AgentEntity,
  TaskEntity,
  BidEntity,
  AgentMessageEntity,
  OperatorQuestionEntity,
  LlmProviderEntity,
  ProviderMetricEntity,
  LedgerAccountEntity,
  LedgerTransferEntity,
  LedgerTransactionEntity,
  MockNodeKeyEntity,
  MockInvoiceEntity,
  MockPaymentEntity,
  LedgerJobEntity,
  UpgradeEntity,
  UpgradeDecisionEntity,
  InstanceEntity,
  L402RedemptionEntity,
];

/** Every migration, in order. */
export const MIGRATIONS = [
  Initial1763700000000,
  LlmRouter1763800000000,
  Seams1764000000000,
  Ledger1764100000000,
  LedgerJobs1764100000001,
  Memory1764200000000,
  MemoryLiveIndexes1764200000001,
  UpgradeQueue1764300000000,
  TaskBudget1764400000010,
  InstanceLeases1764500000000,
  L402Redemptions1764600000000,
  LedgerTxTotals1764700000000,
  LedgerPartialIndexes1764700000001,
];

/**
 * TypeORM options: PostgreSQL when `DATABASE_URL` is set, otherwise better-sqlite3 on `SQLITE_PATH`
 * (WAL, foreign keys on, 5 s busy timeout). Migrations run at start; `synchronize` is always off.
 */
export function buildDataSourceOptions(config: Pick<AppConfig, 'DATABASE_URL' | 'SQLITE_PATH'>): DataSourceOptions {
  const common = { entities: ENTITIES, migrations: MIGRATIONS, migrationsRun: true, synchronize: false, logging: false } as const;
  if (config.DATABASE_URL) {
    return { ...common, type: 'postgres', url: config.DATABASE_URL, extra: { max: 10 } };
  }
  const path = config.SQLITE_PATH === ':memory:' ? ':memory:' : resolve(config.SQLITE_PATH);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: path,
    // prepared statements kept by TypeORM's query runner (FIFO; default 100): the hot paths use fixed SQL texts
    statementCacheSize: 500,
    prepareDatabase: (db: { pragma(sql: string): unknown; loadExtension(path: string): unknown }) => {
      // sqlite-vec's vec0 (KNN tables of the memory module); the .so ships in its npm package
      sqliteVec.load(db);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      // reads through a memory map (no pread per page) and a 32 MB page cache: the memory module's rescoring reads
      // ~1,000 scattered 1.5 kB vectors per search; address space only, pages stay in the OS cache
      db.pragma('mmap_size = 1073741824');
      db.pragma('cache_size = -32768');
      // savepoints (one per unit of work in a group commit) copy each page a unit first touches into a sub-journal:
      // in memory instead of a temp file (measured: 13.6 -> 7.7 us per ledger transfer insert under a savepoint)
      db.pragma('temp_store = MEMORY');
    },
  };
}

/** Key of the PostgreSQL session advisory lock held while migrations run. */
const PG_MIGRATION_LOCK_KEY = 7_316_002;

/**
 * Initializes the data source and runs pending migrations. On PostgreSQL the migrations run under a session advisory
 * lock, so several instances booting at once on a fresh database migrate one after the other instead of racing.
 */
export async function initializeDataSource(options: DataSourceOptions): Promise<DataSource> {
  const ds = await new DataSource({ ...options, migrationsRun: false }).initialize();
  if (options.type !== 'postgres') {
    await ds.runMigrations({ transaction: 'each' });
    startCheckpointer(ds, options);
    return ds;
  }
  const lock = ds.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [PG_MIGRATION_LOCK_KEY]);
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
  return ds;
}

/**
 * SQLite file databases: WAL checkpoints move to a WalCheckpointer thread and the app connection's own
 * auto-checkpoint becomes a far-off safety net; `ds.destroy()` stops the thread first. `:memory:` keeps SQLite's default.
 */
function startCheckpointer(ds: DataSource, options: DataSourceOptions): void {
  const path = (options as { database?: string }).database;
  if (!path || path === ':memory:') return;
  const logger = new Logger('WalCheckpointer');
  const cp = WalCheckpointer.start(path, WAL_CHECKPOINT_INTERVAL_MS, (msg) => logger.warn(msg));
  if (!cp) return;
  const db = (ds.driver as unknown as { databaseConnection: { pragma(sql: string): unknown } }).databaseConnection;
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES_WITH_THREAD}`);
  const destroy = ds.destroy.bind(ds);
  ds.destroy = async () => {
    await cp.stop();
    return destroy();
  };
}
