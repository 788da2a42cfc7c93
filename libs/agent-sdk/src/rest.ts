import type { ErrorResponse } from '@app/contracts';

/**
 * Error thrown by every SDK call that fails. For REST errors `statusCode`, `code` and `message` are copied
 * from the server's `{ statusCode, code, message }` body (`code` is a stable `domain/reason` string such as
 * `swarm/auction_closed`). Failures that never got a server answer use `statusCode: 0` and an `sdk/*` code
 * (`sdk/network_error`, `sdk/timeout`); SDK-side conditions use `sdk/*` codes too (`sdk/question_expired`, ...).
 */
export class AgentSdkError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AgentSdkError';
  }
}

/** Options of {@link RestClient}. */
export interface RestClientOptions {
  /** API origin, e.g. `http://127.0.0.1:3000` (a trailing slash is ignored). */
  baseUrl: string;
  /** Bearer API key (`mck_...`). Never logged or put into errors. */
  apiKey: string;
  /** Per-request timeout in ms (default 15,000). */
  requestTimeoutMs?: number;
}

/**
 * Minimal JSON REST client over Node's global `fetch`, authenticated with a bearer API key.
 * Used by {@link AgentClient} and by the CLI (for enrolment with an operator key).
 */
export class RestClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;

  constructor(opts: RestClientOptions) {
    if (!opts.baseUrl) throw new AgentSdkError(0, 'sdk/bad_options', 'baseUrl is required');
    if (!opts.apiKey) throw new AgentSdkError(0, 'sdk/bad_options', 'apiKey is required');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.requestTimeoutMs ?? 15_000;
  }

  /**
   * Sends one JSON request and returns the parsed body (`undefined` for 204 / empty bodies).
   * @param raw send `body` as text with this content type instead of JSON.
   * @param path absolute API path, e.g. `/api/tasks/123/bids`; query values are URL-encoded by the caller.
   * @throws AgentSdkError with the server's statusCode/code/message on a non-2xx answer, or
   *         `sdk/network_error` / `sdk/timeout` (statusCode 0) when no answer arrived.
   */
  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, raw?: { contentType: string }): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = raw?.contentType ?? 'application/json';
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : raw ? String(body) : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // the message names the URL that was tried (without credentials or query), never the key
      const e = err as Error;
      const where = displayUrl(this.baseUrl + path);
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new AgentSdkError(0, 'sdk/timeout', `${method} ${where} timed out after ${this.timeoutMs} ms`);
      }
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = (cause?.code ?? cause?.message ?? e.message).split(this.baseUrl).join(displayUrl(this.baseUrl));
      throw new AgentSdkError(
        0,
        'sdk/network_error',
        `${method} ${where} failed: ${why} (is the Mission Control server running at ${displayUrl(this.baseUrl)}? set --url or MC_URL)`,
      );
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!res.ok) {
      const err = (parsed && typeof parsed === 'object' ? parsed : {}) as Partial<ErrorResponse>;
      const message = typeof err.message === 'string' ? err.message : Array.isArray(err.message) ? String(err.message) : res.statusText;
      throw new AgentSdkError(
        typeof err.statusCode === 'number' ? err.statusCode : res.status,
        typeof err.code === 'string' ? err.code : `http/${res.status}`,
        message || `HTTP ${res.status}`,
        err.details,
      );
    }
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }

  /** POSTs `text` as the raw body with `contentType` (e.g. a unified diff as `text/x-diff`). */
  postText<T>(path: string, text: string, contentType: string): Promise<T> {
    return this.request<T>('POST', path, text, { contentType });
  }
}

/** A URL as shown in messages: without user/password and query string (unparseable input is returned as `<invalid url>`). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid url>';
  }
}

/** Builds `?a=1&b=2` from the defined values (empty string when none). */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
