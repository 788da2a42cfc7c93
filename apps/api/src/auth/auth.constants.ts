export const SESSION_COOKIE = 'mc_session';
export const CSRF_COOKIE = 'mc_csrf';
export const CSRF_HEADER = 'x-csrf-token';
/** Prefixes make leaked secrets recognisable (secret scanners) and let us tell sessions from keys. */
export const SESSION_TOKEN_PREFIX = 'mcs_';
export const API_KEY_PREFIX = 'mck_';
/** Published on the internal bus (`credential-revoked`) when a key is revoked / a session ends. */
export type { CredentialRevoked } from '../event-log/internal-bus';
