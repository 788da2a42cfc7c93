import { plainToInstance, Transform } from 'class-transformer';
import { PASSWORD_MIN_LENGTH } from '@app/contracts';
import { L402_DEFAULT_TTL_S, L402_MAX_TTL_S, L402_MIN_TTL_S, parseL402Routes } from '../ledger/l402/l402-config';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, validateSync } from 'class-validator';

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

  /**
   * Prefix of the Redis channels this deployment uses (default `mc:<event log epoch>`, unique per database), so several
   * deployments can share one Redis. Set it only to pin a name; every instance of one deployment must use the same.
   */
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_.:-]{1,100}$/)
  REDIS_PREFIX?: string;

  /** Initial admin password (only used when the users table is empty); the same rule as every password. */
  @Transform(({ value }: { value: unknown }) => (value === '' ? undefined : value)) // `ADMIN_PASSWORD=` = unset
  @IsOptional() @IsString() @MinLength(PASSWORD_MIN_LENGTH)
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

  /** How often an instance renews its lease (ms) and looks for instances whose lease passed (ADR 0061). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  INSTANCE_HEARTBEAT_MS = 5000;

  /** An instance lease lasts this long without renewal (ms); then survivors reclaim its work. Must exceed INSTANCE_HEARTBEAT_MS. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(300)
  INSTANCE_LEASE_MS = 15000;

  /** A stable name for this instance across restarts (e.g. the compose service); a restart under the same name reclaims its predecessor's work at once. */
  @IsOptional() @IsString() @MaxLength(100)
  INSTANCE_NAME?: string;

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

  /**
   * Which proxies may set X-Forwarded-For (the client IP of rate limits and logs). Empty or `false` (default): none,
   * the socket's peer address is the client; `true`: any; a number: that many hops; otherwise Fastify's trustProxy
   * string (`loopback`, `10.0.0.0/8,127.0.0.1`, ...).
   */
  @IsOptional() @IsString()
  TRUST_PROXY = '';

  /** Login attempts allowed per IP per minute. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1)
  LOGIN_RATE_LIMIT = 10;

  /** Max events replayed on subscribe before the server answers gap instead. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  REPLAY_MAX_EVENTS = 50000;

  /** Max queued frames per socket before it is treated as a slow consumer and told to resync. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(8)
  SOCKET_MAX_BUFFERED_FRAMES = 256;

  /**
   * Max bytes queued for one socket (engine.io write buffer + the WebSocket's unsent bytes) before it is treated as a
   * slow consumer and told to resync; a replay pauses while its socket holds more than a quarter of this.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(65_536)
  SOCKET_MAX_BUFFERED_BYTES = 1_000_000;

  /** Max bytes queued for all sockets of this instance together; past it the largest backlogs are shed first. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1_000_000)
  REALTIME_MAX_BUFFERED_BYTES = 32_000_000;

  /** Replays (subscribe with `since`) running at once on this instance; later ones wait their turn. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  REALTIME_REPLAY_CONCURRENCY = 2;

  /** A replay whose socket does not drain below its high-water mark within this many ms is cut (slow consumer). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  REPLAY_DRAIN_TIMEOUT_MS = 10_000;

  /** Minimum interval between two coalesced frames (0 = every tick); the gateway adds 1 ms per 10 sockets, up to 60. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(1000)
  REALTIME_FLUSH_MS = 10;

  /**
   * Several instances (REDIS_URL): how often (ms) each instance reads the log tail even without a head notice from
   * another instance (covers a lost Redis message; notices make delivery immediate).
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(50) @Max(60_000)
  REALTIME_TAIL_POLL_MS = 1000;

  /** Socket.IO handshakes allowed per client IP per REALTIME_HANDSHAKE_WINDOW_MS (0 = no limit). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  REALTIME_HANDSHAKES_PER_IP = 300;

  /** Window of the realtime handshake rate limit, ms. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000)
  REALTIME_HANDSHAKE_WINDOW_MS = 60_000;

  /** Concurrent realtime sockets per principal (one API key or one session; 0 = no cap), per instance. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  REALTIME_MAX_SOCKETS_PER_PRINCIPAL = 50;

  /** Concurrent realtime sockets per client IP (0 = no cap), per instance. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  REALTIME_MAX_SOCKETS_PER_IP = 500;

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
   * OpenTelemetry: base URL of an OTLP/HTTP collector (e.g. `http://127.0.0.1:4318`). When set, every finished task's
   * trace is exported as GenAI spans (`invoke_agent`, `execute_tool`, `chat`) to `<endpoint>/v1/traces`; unset exports
   * nothing (the SDK is not even loaded).
   */
  @Transform(({ value }: { value: unknown }) => (value === '' ? undefined : value))
  @IsOptional() @IsString() @Matches(/^https?:\/\/\S+$/, { message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL' })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** OTLP/HTTP traces URL used as is (overrides `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`, as in the OTel spec). */
  @Transform(({ value }: { value: unknown }) => (value === '' ? undefined : value))
  @IsOptional() @IsString() @Matches(/^https?:\/\/\S+$/, { message: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL' })
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;

  /** `service.name` of the exported spans. */
  @IsOptional() @IsString() @MinLength(1)
  OTEL_SERVICE_NAME = 'mission-control';

  /** Memory embedder: `fallback` (deterministic hashing, needs nothing), `ollama`, `openai` (any /v1/embeddings), `transformers` (local model dir). */
  @IsOptional() @IsIn(['fallback', 'ollama', 'openai', 'transformers'])
  MEMORY_EMBEDDER: 'fallback' | 'ollama' | 'openai' | 'transformers' = 'fallback';

  /** Embedder model (ollama: e.g. `all-minilm`; openai: e.g. `text-embedding-3-small`; transformers: unused, the model is the directory MEMORY_EMBED_MODEL_DIR). */
  @IsOptional() @IsString()
  MEMORY_EMBED_MODEL = '';

  /** Base URL of the Ollama / OpenAI-compatible embedding server. */
  @IsOptional() @IsString()
  MEMORY_EMBED_URL = '';

  /** API key for the OpenAI-compatible embedder (never logged or returned). */
  @IsOptional() @IsString()
  MEMORY_EMBED_API_KEY = '';

  /** Vector dimension the configured embedder must return (a different length is rejected). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(8) @Max(8192)
  MEMORY_EMBED_DIM = 384;

  /** Local exported model directory for `transformers` (config.json, tokenizer.json, onnx/model*.onnx; never downloaded). */
  @IsOptional() @IsString()
  MEMORY_EMBED_MODEL_DIR = '';

  /** Entries embedded per background batch. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(2048)
  MEMORY_EMBED_BATCH = 64;

  /** Timeout of one embedding call, ms. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  MEMORY_EMBED_TIMEOUT_MS = 10000;
  /** Lightning backend of the ledger: `mock` (default: a simulated node with real signed BOLT11) or `lnd` (LND REST). */
  @IsOptional() @IsIn(['mock', 'lnd'])
  LIGHTNING_BACKEND: 'mock' | 'lnd' = 'mock';

  /** Bitcoin network of the node; invoices of another network are refused. */
  @IsOptional() @IsIn(['mainnet', 'testnet', 'signet', 'regtest'])
  LIGHTNING_NETWORK: 'mainnet' | 'testnet' | 'signet' | 'regtest' = 'regtest';

  /** LND REST endpoint (LIGHTNING_BACKEND=lnd), e.g. https://127.0.0.1:8080. */
  @IsOptional() @IsString()
  LND_REST_URL?: string;

  /** The node's tls.cert (PEM); it is pinned as the only trusted CA of the LND connection. */
  @IsOptional() @IsString()
  LND_TLS_CERT_PATH?: string;

  /** Macaroon file (admin.macaroon); or give LND_MACAROON_HEX. Never logged or returned. */
  @IsOptional() @IsString()
  LND_MACAROON_PATH?: string;

  @IsOptional() @IsString()
  LND_MACAROON_HEX?: string;

  /** Timeout of one LND REST call (ms). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  LND_TIMEOUT_MS = 10_000;

  /** Default fee limit of a payment in msat (the larger of this and 1 % of the amount). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  LEDGER_DEFAULT_MAX_FEE_MSAT = 10_000;

  /** Interval of the ledger's sweep: expire unpaid invoices, re-read pending invoices and payments from the node. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  LEDGER_SWEEP_MS = 5000;

  /**
   * Task payouts through the ledger: `on` holds the winning bid from the treasury at assignment (refusing the
   * assignment when the treasury cannot cover it), posts it with task.completed and voids it on failure/cancel.
   * `off` (default for now, see notes/ADR 0010): tasks carry bids in sats with no money moving.
   */
  @IsOptional() @IsIn(['on', 'off'])
  LEDGER_TASK_PAYOUTS: 'on' | 'off' = 'off';

  /** Period of the scheduled reconciliation (ledger vs node; 0 = off). Claimed once per period across instances. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  LEDGER_RECONCILE_MS = 600_000;

  /** How long `POST /api/ledger/payments` waits for a final outcome before answering with the pending payment. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  LEDGER_PAY_WAIT_MS = 5000;

  /**
   * L402 pay-per-use (issue 8, ADR 0011): priced routes as `<service>:<price in sats>` separated by commas, services
   * `tasks` (POST /api/tasks) and `chat` (POST /v1/chat/completions), e.g. `tasks:1000,chat:50`. Unset or empty = off.
   * A caller without credentials on a priced route gets 402 with an L402 challenge; API keys and sessions are unaffected.
   */
  @Transform(({ value }: { value: unknown }) => (value === '' ? undefined : value))
  @IsOptional() @IsString() @MaxLength(500)
  L402_ROUTES?: string;

  /** Lifetime of an L402 token and of its invoice, seconds (60 .. 604800). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(L402_MIN_TTL_S) @Max(L402_MAX_TTL_S)
  L402_TOKEN_TTL_S = L402_DEFAULT_TTL_S;

  /**
   * Challenges (402 responses, each one a new invoice) per client IP per minute, per instance; over it a 429
   * `l402/rate_limited` that writes nothing. 0 = no limit.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  L402_CHALLENGES_PER_MIN = 60;

  /**
   * Self-upgrade queue: the git repository proposals target (a working tree or a bare repository). Unset = the queue
   * is off and every `/api/upgrades` endpoint answers 503 `upgrade/disabled` saying how to turn it on.
   */
  @IsOptional() @IsString()
  UPGRADE_REPO_PATH?: string;

  /** Branch of UPGRADE_REPO_PATH that approved upgrades fast-forward. */
  @IsOptional() @IsString() @MinLength(1)
  UPGRADE_TARGET_BRANCH = 'main';

  /** Shell command run in the isolated worktree of each proposal; exit code 0 = pass (required to enable the queue). */
  @IsOptional() @IsString()
  UPGRADE_TEST_COMMAND?: string;

  /** Shell command run in UPGRADE_REPO_PATH after a fast-forward; non-zero exit = automatic rollback. Unset = none. */
  @IsOptional() @IsString()
  UPGRADE_HEALTH_COMMAND?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  UPGRADE_TEST_TIMEOUT_MS = 600_000;

  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  UPGRADE_HEALTH_TIMEOUT_MS = 60_000;

  /** Bytes of test (and health) output kept per attempt; the rest is dropped with a truncation marker. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  UPGRADE_OUTPUT_LIMIT_BYTES = 256 * 1024;

  /** Comma-separated path prefixes whose change needs an admin's approval. */
  @IsOptional() @IsString()
  UPGRADE_PROTECTED_PATHS = '.ci/,.github/,apps/api/src/auth/';

  /** Distinct approvals (not the proposer's) needed before a proposal queues. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(10)
  UPGRADE_REQUIRED_APPROVALS = 1;

  /** A proposal left undecided this long expires (deadline scheduler). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000)
  UPGRADE_PROPOSAL_TTL_MS = 7 * 24 * 3_600_000;

  /** Most changed lines (added + removed) a proposal may have. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1)
  UPGRADE_MAX_DIFF_LINES = 10_000;

  /** Largest uploaded diff (`text/x-diff` body), bytes; larger gets 413. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) @Max(64 * 1024 * 1024)
  UPGRADE_MAX_DIFF_BYTES = 8 * 1024 * 1024;

  /** Where isolated worktrees are made; unset = `<os tmpdir>/mc-upgrade-worktrees`. */
  @IsOptional() @IsString()
  UPGRADE_WORKTREE_DIR?: string;

  /** Queue runner poll interval (it is also woken at once by approvals on this instance). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(20)
  UPGRADE_POLL_MS = 1000;

  /** Lease of a running proposal; renewed while it runs, so a dead instance's run is reclaimed after it lapses. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(500)
  UPGRADE_LEASE_MS = 15_000;

  /** Fault injection for the restart tests: pause at this point of a run (`before_ff` | `after_ff`). */
  @IsOptional() @IsIn(['', 'before_ff', 'after_ff'])
  UPGRADE_FAULT_POINT: '' | 'before_ff' | 'after_ff' = '';

  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  UPGRADE_FAULT_DELAY_MS = 0;

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
  if (env.INSTANCE_LEASE_MS <= env.INSTANCE_HEARTBEAT_MS) {
    throw new Error(`Invalid environment:\n  INSTANCE_LEASE_MS (${env.INSTANCE_LEASE_MS}) must exceed INSTANCE_HEARTBEAT_MS (${env.INSTANCE_HEARTBEAT_MS})`);
  }
  try {
    parseL402Routes(env.L402_ROUTES);
  } catch (err) {
    throw new Error(`Invalid environment:\n  ${(err as Error).message}`);
  }
  return env;
}
