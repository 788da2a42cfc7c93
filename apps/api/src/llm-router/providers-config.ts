import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { RouterProviderType, RouterTier } from '@app/contracts';
import type { ModelConfig, ProviderConfig, RouterConfig } from './llm-router.types';

export const PROVIDER_TYPES: readonly RouterProviderType[] = ['ollama', 'openai', 'anthropic', 'llama-cpp'];

/** Defaults (ms unless named otherwise). "max_retries" means retries after the first attempt. */
export const ROUTER_DEFAULTS = {
  timeoutMs: 30_000,
  maxRetries: 2,
  retryBaseDelayMs: 250,
  retryMaxDelayMs: 4_000,
  maxRetryAfterMs: 10_000,
  failureThreshold: 5,
  recoveryTimeoutMs: 60_000,
  halfOpenMaxCalls: 2,
  healthIntervalMs: 30_000,
  healthTimeoutMs: 5_000,
  flushIntervalMs: 5_000,
  bucketSeconds: 60,
  historyMinutes: 120,
  priority: 99,
} as const;

/** Thrown at boot for an invalid providers file; the message lists every problem with its path. */
export class ProvidersConfigError extends Error {
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`Invalid LLM providers file ${path}:\n  ${problems.join('\n  ')}`);
    this.name = 'ProvidersConfigError';
  }
}

/** Finds the repository root (the folder holding pnpm-workspace.yaml) above `from`; falls back to the cwd. */
export function repoRoot(from = __dirname): string {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return process.cwd();
}

/** `LLM_PROVIDERS_PATH` if set (relative paths are taken from the cwd), else `<repo>/config/providers.yaml`. */
export function resolveProvidersPath(configured: string | undefined): string {
  if (configured && configured.trim() !== '') return isAbsolute(configured) ? configured : resolve(configured);
  return join(repoRoot(), 'config', 'providers.yaml');
}

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands `${VAR}` (and `${VAR:-default}`) from `env`; returns the names of unset (or empty) variables that had no
 * default.
 */
export function expandEnv(value: string, env: Record<string, string | undefined>): { value: string; missing: string[] } {
  const missing: string[] = [];
  const out = value.replace(VAR_RE, (_m, name: string, fallback: string | undefined) => {
    const v = env[name];
    if (v === undefined || v === '') {
      if (fallback !== undefined) return fallback;
      missing.push(name);
      return '';
    }
    return v;
  });
  return { value: out, missing };
}

type Raw = Record<string, unknown>;

class Checker {
  readonly problems: string[] = [];

  obj(v: unknown, path: string): Raw | null {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.problems.push(`${path}: must be a mapping`);
      return null;
    }
    return v as Raw;
  }

  num(v: unknown, path: string, def: number, min: number, max: number, integer = true): number {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      this.problems.push(`${path}: must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max} (got ${JSON.stringify(v)})`);
      return def;
    }
    return v;
  }

  bool(v: unknown, path: string, def: boolean): boolean {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') {
      this.problems.push(`${path}: must be true or false (got ${JSON.stringify(v)})`);
      return def;
    }
    return v;
  }

  str(v: unknown, path: string, required: boolean): string | null {
    if (v === undefined || v === null || v === '') {
      if (required) this.problems.push(`${path}: is required`);
      return null;
    }
    if (typeof v !== 'string') {
      this.problems.push(`${path}: must be a string (got ${JSON.stringify(v)})`);
      return null;
    }
    return v;
  }

  unknownKeys(o: Raw, allowed: string[], path: string): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.problems.push(`${path}.${k}: unknown key (allowed: ${allowed.join(', ')})`);
  }
}

const PROVIDER_KEYS = [
  'name', 'type', 'tier', 'enabled', 'priority', 'url', 'base_url', 'api_key', 'timeout_ms', 'max_retries', 'models',
  'model_path', 'context_size', 'threads',
];
const CASCADE_KEYS = [
  'timeout_ms', 'max_retries', 'retry_base_delay_ms', 'retry_max_delay_ms', 'max_retry_after_ms', 'allow_cloud_fallback',
  'cloud_daily_budget_usd', 'circuit_breaker', 'health_check', 'metrics',
];

/** An empty config (no file): no providers, defaults, one warning. */
export function emptyRouterConfig(path: string | null, warning: string | null): RouterConfig {
  return buildConfig({}, path, process.env, warning ? [warning] : [], false);
}

/**
 * Reads and validates the providers file. A missing file gives no providers and a warning (not an error).
 * @throws ProvidersConfigError listing every problem (bad YAML, unknown type, duplicate names, bad numbers...).
 */
export function loadProvidersConfig(path: string, env: Record<string, string | undefined> = process.env): RouterConfig {
  if (!existsSync(path)) {
    return emptyRouterConfig(path, `LLM providers file ${path} not found: no LLM provider is configured (set LLM_PROVIDERS_PATH or create config/providers.yaml)`);
  }
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ProvidersConfigError(path, [`YAML syntax: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ProvidersConfigError(path, ['top level: must be a mapping with `cascade` and `providers`']);
  return buildConfig(doc as Raw, path, env, [], true);
}

/** Validates a parsed document (exported for unit tests). @throws ProvidersConfigError */
export function buildConfig(doc: Raw, path: string | null, env: Record<string, string | undefined>, warnings: string[], loaded: boolean): RouterConfig {
  const c = new Checker();
  for (const k of Object.keys(doc)) if (!['cascade', 'providers'].includes(k)) c.problems.push(`${k}: unknown top-level key (allowed: cascade, providers)`);
  const cascade = c.obj(doc.cascade, 'cascade') ?? {};
  c.unknownKeys(cascade, CASCADE_KEYS, 'cascade');
  const cb = c.obj(cascade.circuit_breaker, 'cascade.circuit_breaker') ?? {};
  c.unknownKeys(cb, ['failure_threshold', 'recovery_timeout_ms', 'half_open_max_calls'], 'cascade.circuit_breaker');
  const hc = c.obj(cascade.health_check, 'cascade.health_check') ?? {};
  c.unknownKeys(hc, ['interval_ms', 'timeout_ms'], 'cascade.health_check');
  const mt = c.obj(cascade.metrics, 'cascade.metrics') ?? {};
  c.unknownKeys(mt, ['flush_interval_ms', 'bucket_seconds', 'history_minutes'], 'cascade.metrics');
  const D = ROUTER_DEFAULTS;
  const timeoutMs = c.num(cascade.timeout_ms, 'cascade.timeout_ms', D.timeoutMs, 1, 3_600_000);
  const maxRetries = c.num(cascade.max_retries, 'cascade.max_retries', D.maxRetries, 0, 10);
  const budget = cascade.cloud_daily_budget_usd;
  const cfg: RouterConfig = {
    path,
    loaded,
    warnings,
    timeoutMs,
    maxRetries,
    retryBaseDelayMs: c.num(cascade.retry_base_delay_ms, 'cascade.retry_base_delay_ms', D.retryBaseDelayMs, 0, 60_000),
    retryMaxDelayMs: c.num(cascade.retry_max_delay_ms, 'cascade.retry_max_delay_ms', D.retryMaxDelayMs, 0, 300_000),
    maxRetryAfterMs: c.num(cascade.max_retry_after_ms, 'cascade.max_retry_after_ms', D.maxRetryAfterMs, 0, 300_000),
    allowCloudFallback: c.bool(cascade.allow_cloud_fallback, 'cascade.allow_cloud_fallback', false),
    cloudDailyBudgetUsd: budget === undefined || budget === null || budget === 0 ? null : c.num(budget, 'cascade.cloud_daily_budget_usd', 0, 0, 1e9, false),
    circuitBreaker: {
      failureThreshold: c.num(cb.failure_threshold, 'cascade.circuit_breaker.failure_threshold', D.failureThreshold, 1, 1000),
      recoveryTimeoutMs: c.num(cb.recovery_timeout_ms, 'cascade.circuit_breaker.recovery_timeout_ms', D.recoveryTimeoutMs, 1, 86_400_000),
      halfOpenMaxCalls: c.num(cb.half_open_max_calls, 'cascade.circuit_breaker.half_open_max_calls', D.halfOpenMaxCalls, 1, 100),
    },
    healthCheck: {
      intervalMs: c.num(hc.interval_ms, 'cascade.health_check.interval_ms', D.healthIntervalMs, 0, 86_400_000),
      timeoutMs: c.num(hc.timeout_ms, 'cascade.health_check.timeout_ms', D.healthTimeoutMs, 1, 600_000),
    },
    metrics: {
      flushIntervalMs: c.num(mt.flush_interval_ms, 'cascade.metrics.flush_interval_ms', D.flushIntervalMs, 50, 3_600_000),
      bucketSeconds: c.num(mt.bucket_seconds, 'cascade.metrics.bucket_seconds', D.bucketSeconds, 1, 3600),
      historyMinutes: c.num(mt.history_minutes, 'cascade.metrics.history_minutes', D.historyMinutes, 1, 10_080),
    },
    providers: [],
  };

  const list = doc.providers;
  if (list !== undefined && list !== null && !Array.isArray(list)) c.problems.push('providers: must be a list');
  const names = new Set<string>();
  (Array.isArray(list) ? list : []).forEach((item, i) => {
    const p = `providers[${i}]`;
    const o = c.obj(item, p);
    if (!o) {
      if (item === null || item === undefined) c.problems.push(`${p}: is empty`);
      return;
    }
    c.unknownKeys(o, PROVIDER_KEYS, p);
    const name = c.str(o.name, `${p}.name`, true);
    if (name && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) c.problems.push(`${p}.name: use letters, digits, '.', '_' or '-' (max 64)`);
    if (name && names.has(name)) c.problems.push(`${p}.name: duplicate provider name "${name}"`);
    if (name) names.add(name);
    const type = c.str(o.type, `${p}.type`, true) as RouterProviderType | null;
    if (type && !PROVIDER_TYPES.includes(type)) c.problems.push(`${p}.type: must be one of ${PROVIDER_TYPES.join(', ')} (got "${type}")`);
    const tierRaw = c.str(o.tier, `${p}.tier`, false);
    if (tierRaw && tierRaw !== 'local' && tierRaw !== 'cloud') c.problems.push(`${p}.tier: must be local or cloud`);
    const tier: RouterTier = (tierRaw as RouterTier | null) ?? (type === 'openai' || type === 'anthropic' ? 'cloud' : 'local');
    const missing: string[] = [];
    const expand = (v: unknown, key: string): string | null => {
      const s = c.str(v, `${p}.${key}`, false);
      if (s === null) return null;
      const r = expandEnv(s, env);
      missing.push(...r.missing);
      return r.value;
    };
    let url = expand(o.url ?? o.base_url, o.url !== undefined ? 'url' : 'base_url');
    const apiKey = expand(o.api_key, 'api_key');
    const modelPathRaw = expand(o.model_path, 'model_path');
    if (type === 'ollama') url = url ?? 'http://127.0.0.1:11434';
    if (type === 'openai') url = url ?? 'https://api.openai.com/v1';
    if (type === 'anthropic') url = url ?? 'https://api.anthropic.com';
    if (url && missing.length === 0) {
      try {
        const u = new URL(url);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') c.problems.push(`${p}.url: must be http(s)`);
      } catch {
        c.problems.push(`${p}.url: not a valid URL (${JSON.stringify(url)})`);
      }
    }
    if (type === 'llama-cpp' && !modelPathRaw && missing.length === 0) c.problems.push(`${p}.model_path: is required for llama-cpp`);
    const models: ModelConfig[] = [];
    const rawModels = o.models;
    if (rawModels !== undefined && !Array.isArray(rawModels)) c.problems.push(`${p}.models: must be a list`);
    (Array.isArray(rawModels) ? rawModels : []).forEach((m, j) => {
      const mp = `${p}.models[${j}]`;
      if (typeof m === 'string') {
        models.push({ name: m, default: false, contextWindow: null, costPer1kInputUsd: 0, costPer1kOutputUsd: 0 });
        return;
      }
      const mo = c.obj(m, mp);
      if (!mo) return;
      c.unknownKeys(mo, ['name', 'default', 'context_window', 'cost_per_1k_input_usd', 'cost_per_1k_output_usd'], mp);
      const mname = c.str(mo.name, `${mp}.name`, true);
      if (!mname) return;
      models.push({
        name: mname,
        default: c.bool(mo.default, `${mp}.default`, false),
        contextWindow: mo.context_window === undefined ? null : c.num(mo.context_window, `${mp}.context_window`, 0, 1, 100_000_000),
        costPer1kInputUsd: c.num(mo.cost_per_1k_input_usd, `${mp}.cost_per_1k_input_usd`, 0, 0, 1000, false),
        costPer1kOutputUsd: c.num(mo.cost_per_1k_output_usd, `${mp}.cost_per_1k_output_usd`, 0, 0, 1000, false),
      });
    });
    if (models.filter((m) => m.default).length > 1) c.problems.push(`${p}.models: more than one model marked default`);
    if (type === 'llama-cpp' && models.length === 0 && modelPathRaw) {
      const base = modelPathRaw.split(/[\\/]/).pop() ?? 'model';
      models.push({ name: base.replace(/\.gguf$/i, ''), default: true, contextWindow: null, costPer1kInputUsd: 0, costPer1kOutputUsd: 0 });
    }
    if (type && type !== 'llama-cpp' && models.length === 0) c.problems.push(`${p}.models: list at least one model`);
    if (!name || !type || !PROVIDER_TYPES.includes(type)) return;
    const misconfiguredReason = missing.length > 0 ? `environment variable ${[...new Set(missing)].join(', ')} is not set` : null;
    cfg.providers.push({
      name,
      type,
      tier,
      enabled: c.bool(o.enabled, `${p}.enabled`, true),
      misconfiguredReason,
      priority: c.num(o.priority, `${p}.priority`, D.priority, 0, 1_000_000),
      url: type === 'llama-cpp' ? null : (url?.replace(/\/+$/, '') ?? null),
      apiKey: apiKey || null,
      timeoutMs: c.num(o.timeout_ms, `${p}.timeout_ms`, timeoutMs, 1, 3_600_000),
      maxRetries: c.num(o.max_retries, `${p}.max_retries`, maxRetries, 0, 10),
      models,
      modelPath: modelPathRaw && path ? (isAbsolute(modelPathRaw) ? modelPathRaw : resolve(repoRoot(), modelPathRaw)) : modelPathRaw,
      contextSize: c.num(o.context_size, `${p}.context_size`, 2048, 64, 1_048_576),
      threads: c.num(o.threads, `${p}.threads`, 1, 1, 256),
    });
  });
  if (c.problems.length > 0) throw new ProvidersConfigError(path ?? '(inline)', c.problems);
  cfg.providers.sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
  for (const pr of cfg.providers) {
    if (pr.misconfiguredReason) warnings.push(`provider ${pr.name} is disabled: ${pr.misconfiguredReason}`);
  }
  return cfg;
}

/** The model marked default, else the first, else null. */
export function defaultModel(p: Pick<ProviderConfig, 'models'>): string | null {
  return p.models.find((m) => m.default)?.name ?? p.models[0]?.name ?? null;
}
