import type { RouterAttempt, RouterChatMessage, RouterProviderType, RouterTier, RouterUsage } from '@app/contracts';

/** One model a provider serves. Costs are USD per 1,000 tokens (cloud estimates; 0 for local). */
export interface ModelConfig {
  name: string;
  default: boolean;
  contextWindow: number | null;
  costPer1kInputUsd: number;
  costPer1kOutputUsd: number;
}

/** A provider after validation and `${VAR}` expansion. Times in ms. */
export interface ProviderConfig {
  name: string;
  type: RouterProviderType;
  tier: RouterTier;
  /** As configured (before operator overrides). */
  enabled: boolean;
  /** Set when a required `${VAR}` is unset: the provider is kept but cannot be enabled. */
  misconfiguredReason: string | null;
  priority: number;
  /** Base URL (ollama: `http://host:11434`; openai: `.../v1`; anthropic: `https://api.anthropic.com`). */
  url: string | null;
  /** Secret; never logged, never returned. */
  apiKey: string | null;
  timeoutMs: number;
  maxRetries: number;
  models: ModelConfig[];
  /** llama-cpp only. */
  modelPath: string | null;
  contextSize: number;
  threads: number;
}

export interface CircuitBreakerConfig {
  failureThreshold: number;
  recoveryTimeoutMs: number;
  halfOpenMaxCalls: number;
}

/** The whole validated `providers.yaml`. */
export interface RouterConfig {
  path: string | null;
  loaded: boolean;
  warnings: string[];
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** Longest Retry-After the router will sleep for before moving on to the next provider. */
  maxRetryAfterMs: number;
  allowCloudFallback: boolean;
  cloudDailyBudgetUsd: number | null;
  circuitBreaker: CircuitBreakerConfig;
  healthCheck: { intervalMs: number; timeoutMs: number };
  metrics: { flushIntervalMs: number; bucketSeconds: number; historyMinutes: number };
  providers: ProviderConfig[];
}

export type ChatMessage = RouterChatMessage;

/** What the router is asked to do. `signal` aborts the whole request (every attempt). */
export interface CompletionRequest {
  messages: ChatMessage[];
  model?: string;
  temperature?: number;
  max_tokens?: number;
  signal?: AbortSignal;
}

/** What an adapter is asked to do for one attempt. */
export interface AdapterRequest {
  messages: ChatMessage[];
  model: string;
  temperature: number;
  maxTokens: number | null;
  /** Aborted on the attempt timeout or when the caller gives up. */
  signal: AbortSignal;
  /** True when `signal` fired because the attempt timed out (not because the caller left). */
  timedOut: () => boolean;
}

export interface AdapterResult {
  content: string;
  model: string;
  usage: RouterUsage;
  finishReason: string | null;
}

/** A streamed piece: text deltas, then one final `done` chunk with usage. */
export type StreamChunk =
  | { type: 'delta'; text: string }
  | { type: 'done'; model: string; usage: RouterUsage; finishReason: string | null };

/**
 * Talks one wire protocol. Implementations throw `ProviderCallError` (classified, sanitised) on failure.
 */
export interface ProviderAdapter {
  complete(req: AdapterRequest): Promise<AdapterResult>;
  stream(req: AdapterRequest): AsyncIterable<StreamChunk>;
  /** Cheap reachability check (`/api/tags`, `/v1/models`, model file). Throws ProviderCallError when down. */
  probe(timeoutMs: number): Promise<void>;
  /** Releases resources (worker threads, sockets) at shutdown. */
  close?(): Promise<void>;
}

/** The router's answer (`POST /api/router/complete`, `LlmRouterService.complete`). */
export interface CompletionResult {
  content: string;
  provider: string;
  model: string;
  /** Wall time of the whole routed request, ms. */
  latencyMs: number;
  usage: RouterUsage;
  attempts: RouterAttempt[];
  /** `stop`, `length`, ... as reported by the provider (null when unknown). */
  finishReason?: string | null;
}
