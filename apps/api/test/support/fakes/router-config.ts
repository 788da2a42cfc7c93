import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** Writes a providers.yaml (cascade settings + providers, snake_case as in the real file) and returns its path. */
export function writeProvidersYaml(doc: { cascade?: Record<string, unknown>; providers?: Record<string, unknown>[] }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mc-router-'));
  const path = join(dir, 'providers.yaml');
  writeFileSync(path, stringify(doc));
  return path;
}

/** Fast cascade settings for tests: short timeouts, tiny backoff, no background probes unless asked. */
export function fastCascade(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    timeout_ms: 1500,
    max_retries: 1,
    retry_base_delay_ms: 5,
    retry_max_delay_ms: 20,
    max_retry_after_ms: 2000,
    allow_cloud_fallback: false,
    circuit_breaker: { failure_threshold: 3, recovery_timeout_ms: 400, half_open_max_calls: 2 },
    health_check: { interval_ms: 0, timeout_ms: 500 },
    metrics: { flush_interval_ms: 200, bucket_seconds: 1, history_minutes: 10 },
    ...overrides,
  };
}
