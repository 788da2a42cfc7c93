import { EnvironmentVariables, validateEnv } from './env.schema';

/** DI token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** Validated, typed configuration. Built once at boot from the environment (plus test overrides). */
export type AppConfig = EnvironmentVariables;

/** Builds the config from `process.env` merged with `overrides` (tests use overrides instead of mutating env). */
export function loadConfig(overrides: Partial<Record<keyof EnvironmentVariables, unknown>> = {}): AppConfig {
  return validateEnv({ ...process.env, ...overrides });
}
