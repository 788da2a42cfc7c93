/**
 * Wire types of the cascade LLM router (`/api/router/*`, `router` channel). Times are ms, costs USD.
 */

export type RouterProviderType = 'ollama' | 'openai' | 'anthropic' | 'llama-cpp';
export type RouterTier = 'local' | 'cloud';
export type CircuitState = 'closed' | 'open' | 'half_open';
/** Derived health: `disabled` (operator/config), `unhealthy` (circuit open), `degraded` (half-open or error rate > 10 %). */
export type RouterProviderStatus = 'healthy' | 'degraded' | 'unhealthy' | 'disabled';
export type RouterControlAction = 'enable' | 'disable' | 'reset_circuit' | 'probe';

export interface RouterChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface RouterCompleteRequest {
  messages: RouterChatMessage[];
  /** A model name (`llama3.2`) or `provider/model`; omitted or `auto` = each provider's default, in priority order. */
  model?: string;
  /** 0..2, default 0.7. */
  temperature?: number;
  max_tokens?: number;
}

export interface RouterUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** One try at one provider. `skipped` attempts cost nothing (disabled, circuit open, cloud not allowed, budget). */
export interface RouterAttempt {
  provider: string;
  model: string | null;
  outcome: 'success' | 'error' | 'skipped';
  /** Machine reason: `timeout`, `connection_refused`, `http_503`, `rate_limited`, `circuit_open`, ... */
  reason?: string;
  /** Sanitised error text (no keys, no prompt). */
  error?: string;
  latencyMs: number;
}

export interface RouterCompleteResponse {
  content: string;
  provider: string;
  model: string;
  latencyMs: number;
  usage: RouterUsage;
  attempts: RouterAttempt[];
}

export interface RouterLatencyPoint {
  /** Bucket start, ISO time. */
  t: string;
  requests: number;
  failures: number;
  p50: number | null;
  p95: number | null;
}

export interface RouterProviderMetrics {
  requests: number;
  successes: number;
  failures: number;
  /** failures / requests, 0..1 (3 dp). */
  errorRate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  avgLatencyMs: number | null;
  tokensIn: number;
  tokensOut: number;
  /** Estimated, cloud providers only. */
  costUsd: number;
  costTodayUsd: number;
  consecutiveFailures: number;
  lastErrorAt: string | null;
  lastError: string | null;
  lastSuccessAt: string | null;
}

export interface RouterProviderDto {
  name: string;
  type: RouterProviderType;
  tier: RouterTier;
  priority: number;
  enabled: boolean;
  /** Why it cannot be used right now (disabled by config/operator, missing env var, cloud not allowed...). */
  disabledReason: string | null;
  status: RouterProviderStatus;
  /** One sentence explaining `status` (the only status text the dashboard shows, so views cannot disagree). */
  statusReason: string;
  /** How to fix the latest failure, named by its class (timeout, refused, 5xx, missing model...); null when fine. */
  hint: string | null;
  circuitState: CircuitState;
  circuitOpenedAt: string | null;
  /** Result of the last background probe; null before the first one. */
  reachable: boolean | null;
  lastProbeAt: string | null;
  defaultModel: string | null;
  models: string[];
  /** Endpoint without credentials (or the model file for llama-cpp). */
  endpoint: string | null;
  metrics: RouterProviderMetrics;
}

export interface RouterStatusDto {
  totalProviders: number;
  healthyProviders: number;
  degradedProviders: number;
  unhealthyProviders: number;
  disabledProviders: number;
  /** First usable provider in priority order, or null when none is. */
  preferredProvider: string | null;
  allowCloudFallback: boolean;
  budget: { dailyUsd: number | null; spentTodayUsd: number; exhausted: boolean };
  providers: RouterProviderDto[];
  /** How failed attempts are retried and when circuits open (from providers.yaml). */
  retryPolicy: RouterRetryPolicyDto;
  headSeq: number;
}

/** The router's retry and circuit rules as configured. Times ms. */
export interface RouterRetryPolicyDto {
  /** Per attempt (streams: to first token and between tokens); providers may override it. */
  timeoutMs: number;
  /** Retries after the first attempt, per provider (providers may override it); only while the circuit is closed. */
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** A 429 asking to wait longer than this moves on to the next provider. */
  maxRetryAfterMs: number;
  /** Attempt failure reasons that are retried (timeouts included); any other failure moves on at once. */
  retryOn: string[];
  circuitBreaker: { failureThreshold: number; recoveryTimeoutMs: number; halfOpenMaxCalls: number };
  healthCheck: { intervalMs: number; timeoutMs: number };
  /** Per-provider overrides of timeout and retries. */
  providers: { name: string; timeoutMs: number; maxRetries: number }[];
}

export interface RouterMetricsDto {
  /** Seconds covered by each series point. */
  bucketSeconds: number;
  providers: (Pick<RouterProviderDto, 'name' | 'type' | 'status' | 'circuitState'> & {
    metrics: RouterProviderMetrics;
    series: RouterLatencyPoint[];
  })[];
  headSeq: number;
}

export interface RouterConfigDto {
  path: string | null;
  loaded: boolean;
  warnings: string[];
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  allowCloudFallback: boolean;
  cloudDailyBudgetUsd: number | null;
  circuitBreaker: { failureThreshold: number; recoveryTimeoutMs: number; halfOpenMaxCalls: number };
  healthCheck: { intervalMs: number; timeoutMs: number };
  providers: { name: string; type: RouterProviderType; tier: RouterTier; priority: number; enabled: boolean; models: string[] }[];
}

export interface RouterControlResponse {
  message: string;
  provider: RouterProviderDto;
}

/** `router.provider_state_changed` payload. */
export interface RouterProviderStateChangedData {
  provider: string;
  field: 'circuit' | 'enabled' | 'reachable' | 'budget';
  from: string | boolean | null;
  to: string | boolean | null;
  reason: string;
}

/** `router.failover` payload. */
export interface RouterFailoverData {
  from: string;
  to: string | null;
  reason: string;
  requestId: string;
}
