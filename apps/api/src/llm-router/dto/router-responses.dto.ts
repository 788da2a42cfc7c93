import { ApiProperty } from '@nestjs/swagger';
import type {
  CircuitState,
  RouterConfigDto,
  RouterControlResponse,
  RouterLatencyPoint,
  RouterMetricsDto,
  RouterProviderDto,
  RouterProviderMetrics,
  RouterProviderStatus,
  RouterProviderType,
  RouterRetryPolicyDto,
  RouterStatusDto,
  RouterTier,
} from '@app/contracts';
import { RouterAttemptDto } from './router.dto';

/*
 * Swagger response schemas of `/api/router/*`, `/v1/*` (OpenAI-compatible) and `/metrics`. Documentation only: the
 * controllers return plain objects built by LlmRouterService / the OpenAI controller; these classes mirror them and
 * `implement` the wire types of `@app/contracts` (router.ts) so the compiler keeps them in step. Times are ms unless
 * the field says seconds; costs are USD.
 */

const PROVIDER_TYPES: RouterProviderType[] = ['ollama', 'openai', 'anthropic', 'llama-cpp'];
const TIERS: RouterTier[] = ['local', 'cloud'];
const CIRCUIT_STATES: CircuitState[] = ['closed', 'open', 'half_open'];
const PROVIDER_STATUSES: RouterProviderStatus[] = ['healthy', 'degraded', 'unhealthy', 'disabled'];

/** Cumulative metrics of one provider (latencies in ms, costs in USD). */
export class RouterProviderMetricsDto implements RouterProviderMetrics {
  @ApiProperty({ example: 42 }) requests: number;
  @ApiProperty({ example: 40 }) successes: number;
  @ApiProperty({ example: 2 }) failures: number;
  @ApiProperty({ example: 0.048, minimum: 0, maximum: 1, description: 'failures / requests (3 dp)' }) errorRate: number;
  @ApiProperty({ type: Number, nullable: true, example: 820, description: 'ms; null before the first request' }) p50: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 2100, description: 'ms' }) p95: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 3400, description: 'ms' }) p99: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 950, description: 'ms' }) avgLatencyMs: number | null;
  @ApiProperty({ example: 12800 }) tokensIn: number;
  @ApiProperty({ example: 5400 }) tokensOut: number;
  @ApiProperty({ example: 0, description: 'Estimated spend, USD (cloud providers only)' }) costUsd: number;
  @ApiProperty({ example: 0, description: 'Estimated spend today (UTC), USD' }) costTodayUsd: number;
  @ApiProperty({ example: 0 }) consecutiveFailures: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: '2025-11-21T08:01:12.345Z' }) lastErrorAt: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'timeout after 30000 ms', description: 'Sanitised (no keys, no prompt)' }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: '2025-11-21T08:05:40.120Z' }) lastSuccessAt: string | null;
}

/** One configured provider with its derived health, circuit and metrics. Never contains API keys. */
export class RouterProviderResponseDto implements RouterProviderDto {
  @ApiProperty({ example: 'ollama-local' }) name: string;
  @ApiProperty({ enum: PROVIDER_TYPES, example: 'ollama' }) type: RouterProviderType;
  @ApiProperty({ enum: TIERS, example: 'local' }) tier: RouterTier;
  @ApiProperty({ example: 1, description: 'Lower is tried first' }) priority: number;
  @ApiProperty({ example: true, description: 'Effective (config + operator override)' }) enabled: boolean;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'Why it cannot be used right now (disabled, missing env var, cloud not allowed, ...)' })
  disabledReason: string | null;
  @ApiProperty({ enum: PROVIDER_STATUSES, example: 'healthy' }) status: RouterProviderStatus;
  @ApiProperty({ example: 'serving', description: 'One sentence explaining status (the only status text the dashboard shows)' }) statusReason: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'ollama-local accepted the connection but did not answer within 30000 ms: ...',
    description: 'How to fix the latest failure, by failure class (timeout, refused, 5xx, missing model, ...); null when fine',
  })
  hint: string | null;
  @ApiProperty({ enum: CIRCUIT_STATES, example: 'closed' }) circuitState: CircuitState;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: null }) circuitOpenedAt: string | null;
  @ApiProperty({ type: Boolean, nullable: true, example: true, description: 'Last background probe; null before the first one' }) reachable: boolean | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: '2025-11-21T08:05:00.000Z' }) lastProbeAt: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'llama3.2' }) defaultModel: string | null;
  @ApiProperty({ type: [String], example: ['llama3.2', 'qwen2.5:7b'] }) models: string[];
  @ApiProperty({ type: String, nullable: true, example: 'http://127.0.0.1:11434', description: 'Without credentials or query (model file for llama-cpp)' })
  endpoint: string | null;
  @ApiProperty({ type: RouterProviderMetricsDto }) metrics: RouterProviderMetricsDto;
}

export class RouterCircuitBreakerConfigDto {
  @ApiProperty({ example: 5, description: 'Consecutive failures that open the circuit' }) failureThreshold: number;
  @ApiProperty({ example: 30000, description: 'ms before an open circuit goes half-open' }) recoveryTimeoutMs: number;
  @ApiProperty({ example: 1 }) halfOpenMaxCalls: number;
}

export class RouterHealthCheckConfigDto {
  @ApiProperty({ example: 30000, description: 'ms between background probes' }) intervalMs: number;
  @ApiProperty({ example: 5000, description: 'ms' }) timeoutMs: number;
}

/** Per-provider timeout / retries (after overrides). */
export class RouterProviderRetryDto {
  @ApiProperty({ example: 'ollama-local' }) name: string;
  @ApiProperty({ example: 30000, description: 'ms per attempt' }) timeoutMs: number;
  @ApiProperty({ example: 2 }) maxRetries: number;
}

/** How failed attempts are retried and when circuits open (from providers.yaml). Times ms. */
export class RouterRetryPolicyResponseDto implements RouterRetryPolicyDto {
  @ApiProperty({ example: 30000 }) timeoutMs: number;
  @ApiProperty({ example: 2, description: 'Retries after the first attempt, per provider, while the circuit is closed' }) maxRetries: number;
  @ApiProperty({ example: 250 }) retryBaseDelayMs: number;
  @ApiProperty({ example: 4000 }) retryMaxDelayMs: number;
  @ApiProperty({ example: 10000 }) maxRetryAfterMs: number;
  @ApiProperty({ type: [String], example: ['connection_refused', 'timeout', 'http_5xx'] }) retryOn: string[];
  @ApiProperty({ type: RouterCircuitBreakerConfigDto }) circuitBreaker: RouterCircuitBreakerConfigDto;
  @ApiProperty({ type: RouterHealthCheckConfigDto }) healthCheck: RouterHealthCheckConfigDto;
  @ApiProperty({ type: [RouterProviderRetryDto] }) providers: RouterProviderRetryDto[];
}

/** Cloud spend budget of the current UTC day. */
export class RouterBudgetDto {
  @ApiProperty({ type: Number, nullable: true, example: 5, description: 'USD per day; null = unlimited' }) dailyUsd: number | null;
  @ApiProperty({ example: 0.0123, description: 'USD' }) spentTodayUsd: number;
  @ApiProperty({ example: false }) exhausted: boolean;
}

/** `GET /api/router/status`. */
export class RouterStatusResponseDto implements RouterStatusDto {
  @ApiProperty({ example: 3 }) totalProviders: number;
  @ApiProperty({ example: 1 }) healthyProviders: number;
  @ApiProperty({ example: 0 }) degradedProviders: number;
  @ApiProperty({ example: 1 }) unhealthyProviders: number;
  @ApiProperty({ example: 1 }) disabledProviders: number;
  @ApiProperty({ type: String, nullable: true, example: 'ollama-local', description: 'First usable provider in priority order' }) preferredProvider: string | null;
  @ApiProperty({ example: false }) allowCloudFallback: boolean;
  @ApiProperty({ type: RouterBudgetDto }) budget: RouterBudgetDto;
  @ApiProperty({ type: [RouterProviderResponseDto] }) providers: RouterProviderResponseDto[];
  @ApiProperty({ type: RouterRetryPolicyResponseDto }) retryPolicy: RouterRetryPolicyResponseDto;
  @ApiProperty({ example: 1234, description: 'Event-log head seq read before the snapshot' }) headSeq: number;
}

/** One latency/throughput bucket (`bucketSeconds` wide). */
export class RouterLatencyPointDto implements RouterLatencyPoint {
  @ApiProperty({ format: 'date-time', example: '2025-11-21T08:05:00.000Z', description: 'Bucket start' }) t: string;
  @ApiProperty({ example: 6 }) requests: number;
  @ApiProperty({ example: 0 }) failures: number;
  @ApiProperty({ type: Number, nullable: true, example: 780, description: 'ms' }) p50: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 1900, description: 'ms' }) p95: number | null;
}

/** Metrics and latency series of one provider. */
export class RouterProviderSeriesDto implements Pick<RouterProviderDto, 'name' | 'type' | 'status' | 'circuitState'> {
  @ApiProperty({ example: 'ollama-local' }) name: string;
  @ApiProperty({ enum: PROVIDER_TYPES, example: 'ollama' }) type: RouterProviderType;
  @ApiProperty({ enum: PROVIDER_STATUSES, example: 'healthy' }) status: RouterProviderStatus;
  @ApiProperty({ enum: CIRCUIT_STATES, example: 'closed' }) circuitState: CircuitState;
  @ApiProperty({ type: RouterProviderMetricsDto }) metrics: RouterProviderMetricsDto;
  @ApiProperty({ type: [RouterLatencyPointDto], description: 'Oldest first' }) series: RouterLatencyPointDto[];
}

/** `GET /api/router/metrics`. */
export class RouterMetricsResponseDto implements RouterMetricsDto {
  @ApiProperty({ example: 60, description: 'Seconds covered by each series point' }) bucketSeconds: number;
  @ApiProperty({ type: [RouterProviderSeriesDto] }) providers: RouterProviderSeriesDto[];
  @ApiProperty({ example: 1234 }) headSeq: number;
}

/** A provider as configured (no URL, no key). */
export class RouterConfigProviderDto {
  @ApiProperty({ example: 'ollama-local' }) name: string;
  @ApiProperty({ enum: PROVIDER_TYPES, example: 'ollama' }) type: RouterProviderType;
  @ApiProperty({ enum: TIERS, example: 'local' }) tier: RouterTier;
  @ApiProperty({ example: 1 }) priority: number;
  @ApiProperty({ example: true, description: 'Effective (config + operator override)' }) enabled: boolean;
  @ApiProperty({ type: [String], example: ['llama3.2'] }) models: string[];
}

/** `GET /api/router/config`: the effective configuration, without secrets. */
export class RouterConfigResponseDto implements RouterConfigDto {
  @ApiProperty({ type: String, nullable: true, example: '/etc/mission-control/providers.yaml' }) path: string | null;
  @ApiProperty({ example: true, description: 'False when the file was missing or invalid (defaults used)' }) loaded: boolean;
  @ApiProperty({ type: [String], example: [] }) warnings: string[];
  @ApiProperty({ example: 30000, description: 'Default per-attempt timeout, ms' }) timeoutMs: number;
  @ApiProperty({ example: 2 }) maxRetries: number;
  @ApiProperty({ example: 250, description: 'ms' }) retryBaseDelayMs: number;
  @ApiProperty({ example: 4000, description: 'ms' }) retryMaxDelayMs: number;
  @ApiProperty({ example: false }) allowCloudFallback: boolean;
  @ApiProperty({ type: Number, nullable: true, example: null, description: 'USD per day; null = unlimited' }) cloudDailyBudgetUsd: number | null;
  @ApiProperty({ type: RouterCircuitBreakerConfigDto }) circuitBreaker: RouterCircuitBreakerConfigDto;
  @ApiProperty({ type: RouterHealthCheckConfigDto }) healthCheck: RouterHealthCheckConfigDto;
  @ApiProperty({ type: [RouterConfigProviderDto] }) providers: RouterConfigProviderDto[];
}

/** `POST /api/router/providers/{name}/control`. */
export class RouterControlResponseDto implements RouterControlResponse {
  @ApiProperty({ example: 'Provider ollama-local disabled' }) message: string;
  @ApiProperty({ type: RouterProviderResponseDto, description: 'The provider after the action' }) provider: RouterProviderResponseDto;
}

// ------------------------------------------------------------------ OpenAI-compatible (/v1)

export class OpenAiModelDto {
  @ApiProperty({ example: 'llama3.2', description: '`auto`, a model name, or `provider/model`' }) id: string;
  @ApiProperty({ enum: ['model'], example: 'model' }) object: 'model';
  @ApiProperty({ example: 1763712000, description: 'Unix seconds' }) created: number;
  @ApiProperty({ example: 'ollama-local', description: 'Provider name (`llm-router` for `auto`)' }) owned_by: string;
}

/** `GET /v1/models`. */
export class OpenAiModelListDto {
  @ApiProperty({ enum: ['list'], example: 'list' }) object: 'list';
  @ApiProperty({ type: [OpenAiModelDto] }) data: OpenAiModelDto[];
}

export class OpenAiAssistantMessageDto {
  @ApiProperty({ enum: ['assistant'], example: 'assistant' }) role: 'assistant';
  @ApiProperty({ example: 'Hello! How can I help?' }) content: string;
}

export class OpenAiChoiceDto {
  @ApiProperty({ example: 0 }) index: number;
  @ApiProperty({ type: OpenAiAssistantMessageDto }) message: OpenAiAssistantMessageDto;
  @ApiProperty({ example: 'stop', description: 'As reported by the provider (`stop`, `length`, ...); `stop` when unknown' }) finish_reason: string;
}

export class OpenAiUsageDto {
  @ApiProperty({ example: 12 }) prompt_tokens: number;
  @ApiProperty({ example: 9 }) completion_tokens: number;
  @ApiProperty({ example: 21 }) total_tokens: number;
}

/** Router extension of the OpenAI response: who served it and every attempt. */
export class OpenAiRouterInfoDto {
  @ApiProperty({ example: 'ollama-local' }) provider: string;
  @ApiProperty({ example: 812, description: 'Whole routed request, ms' }) latencyMs: number;
  @ApiProperty({ type: [RouterAttemptDto] }) attempts: RouterAttemptDto[];
}

/** `POST /v1/chat/completions` without `stream` (a `chat.completion` object). */
export class OpenAiChatCompletionDto {
  @ApiProperty({ example: 'chatcmpl-mi8x2k1a4f9d2c7b' }) id: string;
  @ApiProperty({ enum: ['chat.completion'], example: 'chat.completion' }) object: 'chat.completion';
  @ApiProperty({ example: 1763712000, description: 'Unix seconds' }) created: number;
  @ApiProperty({ example: 'llama3.2', description: 'Model that actually served the request' }) model: string;
  @ApiProperty({ type: [OpenAiChoiceDto] }) choices: OpenAiChoiceDto[];
  @ApiProperty({ type: OpenAiUsageDto }) usage: OpenAiUsageDto;
  @ApiProperty({ type: OpenAiRouterInfoDto }) router: OpenAiRouterInfoDto;
}

/** Example body of the SSE variant of `POST /v1/chat/completions` (`stream: true`). */
export const CHAT_COMPLETION_SSE_EXAMPLE =
  'data: {"id":"chatcmpl-mi8x2k1a4f9d2c7b","object":"chat.completion.chunk","created":1763712000,"model":"llama3.2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n' +
  'data: {"id":"chatcmpl-mi8x2k1a4f9d2c7b","object":"chat.completion.chunk","created":1763712000,"model":"llama3.2","choices":[{"index":0,"delta":{"content":"Hello!"},"finish_reason":null}]}\n\n' +
  'data: {"id":"chatcmpl-mi8x2k1a4f9d2c7b","object":"chat.completion.chunk","created":1763712000,"model":"llama3.2","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
  'data: [DONE]\n\n';

