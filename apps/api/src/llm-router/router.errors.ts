import type { RouterAttempt } from '@app/contracts';
import { AppError } from '../common/app-error';

/** Stable error codes of the llm-router module. */
export type RouterErrorCode =
  | 'router/aborted'
  | 'router/all_providers_failed'
  | 'router/model_not_found'
  | 'router/no_providers'
  | 'router/not_ready'
  | 'router/provider_misconfigured'
  | 'router/provider_not_found'
  | 'router/stream_failed'
  | 'router/stream_interrupted'
  | 'router/unknown_action';

/** Builds an AppError with a router code. */
export function routerError(code: RouterErrorCode, message: string, status: number, details?: unknown): AppError {
  return new AppError(code, message, status, details);
}

/**
 * Why one attempt at one provider failed.
 * - retryable: `connection_refused`, `connection_reset`, `timeout`, `rate_limited` (429), `http_5xx`,
 *   `error_body` (a 200 whose body is an error), `bad_response` (malformed JSON / cut stream), `stream_interrupted`.
 * - not retryable: `http_4xx` (other 4xx: the request itself is wrong), `auth` (401/403), `aborted` (caller gave up),
 *   `unavailable` (in-process model missing).
 */
export type FailureKind =
  | 'connection_refused'
  | 'connection_reset'
  | 'timeout'
  | 'rate_limited'
  | 'http_5xx'
  | 'error_body'
  | 'bad_response'
  | 'stream_interrupted'
  | 'http_4xx'
  | 'auth'
  | 'aborted'
  | 'unavailable';

/** Failure kinds the router retries (exported for the retry policy shown on the Router page). */
export const RETRYABLE: ReadonlySet<FailureKind> = new Set<FailureKind>([
  'connection_refused',
  'connection_reset',
  'timeout',
  'rate_limited',
  'http_5xx',
  'error_body',
  'bad_response',
  'stream_interrupted',
]);

/** Failures that say nothing about the provider's health (the request was wrong, or the caller left). */
const NOT_HEALTH: ReadonlySet<FailureKind> = new Set<FailureKind>(['http_4xx', 'aborted']);

const SECRETISH = /(sk-[A-Za-z0-9_-]{6,}|mck_[A-Za-z0-9_-]+|Bearer\s+\S+|x-api-key[^,;]*|api[_-]?key=\S+)/gi;

/** Strips anything that looks like a credential and caps the length (errors go to events, logs and responses). */
export function sanitizeError(text: string, max = 300): string {
  const clean = text.replace(SECRETISH, '[redacted]').replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** A classified, sanitised failure of one provider call. */
export class ProviderCallError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    /** HTTP status when there was one. */
    readonly status: number | null = null,
    /** From a 429's Retry-After header, ms. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(sanitizeError(message));
    this.name = 'ProviderCallError';
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }

  /** Whether this failure counts against the provider's circuit breaker. */
  get countsAgainstProvider(): boolean {
    return !NOT_HEALTH.has(this.kind);
  }

  /** `reason` as shown in attempts: `http_503`, `rate_limited`, `timeout`, ... */
  get reason(): string {
    if ((this.kind === 'http_5xx' || this.kind === 'http_4xx' || this.kind === 'auth') && this.status) return `http_${this.status}`;
    return this.kind;
  }
}

/** Maps an HTTP status (non-2xx) to a failure. */
export function failureForStatus(status: number, body: string, retryAfter: string | null): ProviderCallError {
  const detail = extractErrorMessage(body) ?? `HTTP ${status}`;
  if (status === 429) return new ProviderCallError('rate_limited', `rate limited: ${detail}`, 429, parseRetryAfter(retryAfter));
  if (status === 401 || status === 403) return new ProviderCallError('auth', `authentication failed: ${detail}`, status);
  if (status >= 500) return new ProviderCallError('http_5xx', `upstream error ${status}: ${detail}`, status);
  return new ProviderCallError('http_4xx', `request rejected ${status}: ${detail}`, status);
}

/** Maps a Node/network error to a failure. */
export function failureForNetworkError(err: unknown, timedOut: boolean): ProviderCallError {
  if (err instanceof ProviderCallError) return err;
  const e = err as { code?: string; message?: string; name?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  if (timedOut) return new ProviderCallError('timeout', 'timed out');
  if (e?.name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') return new ProviderCallError('aborted', 'aborted by caller');
  if (code === 'ECONNREFUSED') return new ProviderCallError('connection_refused', 'connection refused');
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || /socket hang up/i.test(e?.message ?? '')) {
    return new ProviderCallError('connection_reset', 'connection reset');
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new ProviderCallError('connection_refused', `host unreachable (${code})`);
  }
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return new ProviderCallError('timeout', 'connect timed out');
  return new ProviderCallError('connection_reset', e?.message ?? String(err));
}

/** Retry-After: seconds or an HTTP date; null when absent/invalid. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.max(0, t - now) : null;
}

/** Finds an error message in a JSON error body (`{error:{message}}`, `{error:"..."}`, `{message}`). */
export function extractErrorMessage(body: string): string | null {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (j.error && typeof j.error === 'object' && typeof (j.error as { message?: unknown }).message === 'string') {
      return (j.error as { message: string }).message;
    }
    if (typeof j.message === 'string') return j.message;
  } catch {
    /* not JSON */
  }
  return body ? body.slice(0, 200) : null;
}

/**
 * Every provider failed or was skipped. HTTP 503 `router/all_providers_failed` with `details.attempts`;
 * `message` tells the operator what to configure.
 */
export class RouterUnavailableError extends AppError {
  constructor(
    message: string,
    readonly attempts: RouterAttempt[],
    code = 'router/all_providers_failed',
  ) {
    super(code, message, 503, { attempts });
    this.name = 'RouterUnavailableError';
  }
}
