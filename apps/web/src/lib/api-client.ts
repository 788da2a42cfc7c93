import type { ErrorResponse, MeResponse } from '@app/contracts';

/** An API error: `status` is the HTTP status, `code` the stable `domain/reason` code of the body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type QueryValue = string | number | boolean | readonly string[] | null | undefined;

let csrfToken = '';
let unauthorizedHandler: (() => void) | null = null;

/** Stores the CSRF token from `/api/auth/login` or `/api/auth/me`; sent as `x-csrf-token` on writes. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when an authenticated request gets 401 (session expired): the app shows the login page. */
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  unauthorizedHandler = fn;
}

/** `?a=1&type=x,y` from a filter object; empty values and empty arrays are left out. */
export function buildQuery(params: Record<string, QueryValue>): string {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      if (value.length) qs.set(key, value.join(','));
    } else qs.set(key, String(value));
  }
  const s = qs.toString();
  return s ? `?${s}` : '';
}

async function parseBody(res: Response): Promise<unknown> {
  if (res.status === 204) return undefined;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) return res.json();
  const text = await res.text();
  return text || undefined;
}

function toApiError(res: Response, body: unknown): ApiError {
  const b = (body && typeof body === 'object' ? body : {}) as Partial<ErrorResponse> & { message?: unknown };
  const message = Array.isArray(b.message) ? b.message.join('; ') : typeof b.message === 'string' ? b.message : res.statusText;
  return new ApiError(res.status, typeof b.code === 'string' ? b.code : `http/${res.status}`, message || `HTTP ${res.status}`);
}

async function request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed = await parseBody(res);
  if (res.ok) return parsed as T;
  const err = toApiError(res, parsed);
  if (err.status === 403 && err.code === 'auth/csrf_invalid' && method !== 'GET' && !retried) {
    // The token rotated (login in another tab, restart): fetch a fresh one and retry once.
    const me = await request<MeResponse>('GET', '/api/auth/me', undefined, true);
    setCsrfToken(me.csrfToken);
    return request<T>(method, path, body, true);
  }
  if (err.status === 401 && !path.startsWith('/api/auth/')) unauthorizedHandler?.();
  throw err;
}

/** Typed JSON client for the same-origin API (`/api/...`); throws `ApiError` on non-2xx. */
export const api = {
  get: <T>(path: string, query?: Record<string, QueryValue>) => request<T>('GET', path + (query ? buildQuery(query) : '')),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** A human message for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}
