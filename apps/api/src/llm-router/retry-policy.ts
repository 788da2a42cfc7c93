import type { ProviderCallError } from './router.errors';

export interface RetrySettings {
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  maxRetryAfterMs: number;
}

/**
 * What to do after a failed attempt at one provider.
 * - not retryable (other 4xx, auth, aborted, unavailable) or no retries left: `next` (move to the next provider);
 * - 429 whose Retry-After is longer than `maxRetryAfterMs`: `next` (never park a request on a busy provider);
 * - otherwise `retry` after `delayMs`: exponential backoff `base * 2^retryIndex` capped at `retryMaxDelayMs`, with
 *   equal jitter (50-100 % of it), and never shorter than the server's Retry-After.
 * `retryIndex` is 0 for the first retry. `random` is injectable for tests.
 */
export function nextStep(
  err: ProviderCallError,
  retryIndex: number,
  retriesLeft: number,
  s: RetrySettings,
  random: () => number = Math.random,
): { action: 'retry'; delayMs: number } | { action: 'next'; why: string } {
  if (!err.retryable) return { action: 'next', why: 'not retryable' };
  if (retriesLeft <= 0) return { action: 'next', why: 'retries exhausted' };
  if (err.retryAfterMs !== null && err.retryAfterMs > s.maxRetryAfterMs) {
    return { action: 'next', why: `Retry-After ${err.retryAfterMs} ms exceeds ${s.maxRetryAfterMs} ms` };
  }
  const exp = Math.min(s.retryMaxDelayMs, s.retryBaseDelayMs * 2 ** retryIndex);
  const jittered = exp * (0.5 + random() * 0.5);
  return { action: 'retry', delayMs: Math.round(Math.max(jittered, err.retryAfterMs ?? 0)) };
}

/** Sleeps `ms`, rejecting early with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
