import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength, validateSync } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : ['1', 'true', 'yes', 'on'].includes(String(value).toLowerCase());

/**
 * Every environment variable the API reads, validated once at boot (see `.env.example`).
 * Times are in milliseconds unless the name says otherwise.
 */
export class EnvironmentVariables {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @IsOptional() @IsString()
  HOST = '0.0.0.0';

  /** SQLite file path; ignored when DATABASE_URL is set. */
  @IsOptional() @IsString()
  SQLITE_PATH = './data/mission-control.db';

  /** postgres://... switches storage to PostgreSQL. */
  @IsOptional() @IsString()
  DATABASE_URL?: string;

  /** redis://... enables the Socket.IO Redis adapter for multi-instance fan-out. */
  @IsOptional() @IsString()
  REDIS_URL?: string;

  /** Initial admin password (only used when the users table is empty). */
  @IsOptional() @IsString() @MinLength(8)
  ADMIN_PASSWORD?: string;

  @IsOptional() @IsString()
  ADMIN_USERNAME = 'admin';

  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000)
  AUCTION_WINDOW_MS = 15000;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(3650)
  EVENT_RETENTION_DAYS = 30;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1000)
  EVENT_PRUNE_INTERVAL_MS = 3_600_000;

  /** Durable consumers poll the log this often (ms) for commits of other instances (their own commits wake them at once). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(50)
  CONSUMER_POLL_MS = 1000;

  /** Deadline scheduler sweep (ms): re-reads pending deadlines (auctions, question/invoice/upgrade expiry) from the database. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  DEADLINE_SWEEP_MS = 5000;

  /** An external agent without a heartbeat for this long is marked offline. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(500)
  HEARTBEAT_TIMEOUT_MS = 30000;

  /** Personas spawned at start (comma-separated persona ids; empty for none). */
  @IsOptional() @IsString()
  SPAWN_PERSONAS = '';

  /** Session lifetime in hours. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1)
  SESSION_TTL_HOURS = 24 * 7;

  /** Set true when served over HTTPS so cookies get the Secure flag. */
  @IsOptional() @Transform(toBool) @IsBoolean()
  COOKIE_SECURE = false;

  /** Comma-separated origins allowed by CORS; empty means CORS closed. */
  @IsOptional() @IsString()
  CORS_ORIGINS = '';

  /** Login attempts allowed per IP per minute. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1)
  LOGIN_RATE_LIMIT = 10;

  /** Max events replayed on subscribe before the server answers gap instead. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  REPLAY_MAX_EVENTS = 50000;

  /** Max queued frames per socket before it is treated as a slow consumer and told to resync. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(8)
  SOCKET_MAX_BUFFERED_FRAMES = 256;

  /** Minimum interval between two coalesced frames (0 = every tick); the gateway adds 1 ms per 10 sockets, up to 60. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(1000)
  REALTIME_FLUSH_MS = 10;

  /** Digest interval of the conflated mobile channel. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(50)
  MOBILE_DIGEST_MS = 1000;

  /** Where the built dashboard lives; empty disables static serving. */
  @IsOptional() @IsString()
  WEB_DIST?: string;

  /**
   * LLM router providers file (YAML: cascade settings + providers). Relative paths are resolved from the working
   * directory; unset means `config/providers.yaml` at the repository root. A missing file means no providers (warning).
   */
  @IsOptional() @IsString()
  LLM_PROVIDERS_PATH?: string;

  /**
   * `production` (Docker image, `npm run up`) turns off development-time guards that cost per-request time, such as
   * the event log's nested-write check (AsyncLocalStorage, which enables promise hooks process-wide on Node 20).
   */
  @IsOptional() @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsOptional() @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';
}

/** Validates `process.env`-like input; throws an Error listing every bad variable. */
export function validateEnv(raw: Record<string, unknown>): EnvironmentVariables {
  const env = plainToInstance(EnvironmentVariables, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
    throw new Error(`Invalid environment:\n  ${lines.join('\n  ')}`);
  }
  return env;
}
