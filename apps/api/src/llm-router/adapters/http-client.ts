import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher, request } from 'undici';
import { failureForNetworkError, failureForStatus, ProviderCallError } from '../router.errors';

/**
 * One keep-alive connection pool per origin for every provider call (undici, the HTTP client behind Node's fetch,
 * used directly: it costs less per request than `http.request`). undici's own header/body timeouts are off: the
 * router's per-attempt timeout (`signal`) decides, including the idle time between stream chunks.
 */
const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 512, headersTimeout: 0, bodyTimeout: 0 });

export interface HttpCall {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Aborts the call; the caller combines its own signal with the attempt timeout. */
  signal: AbortSignal;
  /** Set by the caller when `signal` fired because of the attempt timeout (so the error is classified `timeout`). */
  timedOut: () => boolean;
}

/** A response whose status is 2xx; the body (a byte stream) has not been read yet and must be read or destroyed. */
export interface OpenResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** Bytes of a non-2xx body kept for the error message and classification. */
const ERROR_BODY_MAX_BYTES = 64 * 1024;
/** Largest 2xx body `requestText` accepts (16 MiB); a larger one is a `bad_response`. */
export const RESPONSE_BODY_MAX_BYTES = 16 * 1024 * 1024;

function requestHeaders(call: HttpCall, payload: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json, text/event-stream, application/x-ndjson', ...(call.headers ?? {}) };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return headers;
}

/**
 * Sends a request (JSON body when `body` is set) and resolves with the whole 2xx response body as UTF-8 text. The
 * non-streaming path: undici's `dispatch` handler API (undici docs, Dispatcher.dispatch) collects the chunks directly,
 * with no stream object or async iterator per call.
 * @returns `{status, headers, text}`; `headers` have lower-case names
 * @throws ProviderCallError: the same classification as `openRequest` (network failures, timeout, abort, non-2xx with
 *   Retry-After); `bad_response` when the body exceeds `maxBytes`; `http_4xx` for an invalid URL.
 */
export function requestText(call: HttpCall, maxBytes = RESPONSE_BODY_MAX_BYTES): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  let url: URL;
  try {
    url = new URL(call.url);
  } catch {
    return Promise.reject(new ProviderCallError('http_4xx', `invalid URL ${call.url}`));
  }
  if (call.signal.aborted) return Promise.reject(failureForNetworkError(call.signal.reason, call.timedOut()));
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | null = null;
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    // settles at once (a request still waiting for a connection is not written later: onRequestStart aborts it)
    const onAbort = () => {
      const reason: unknown = call.signal.reason;
      settle(reason);
      controller?.abort(reason instanceof Error ? reason : Object.assign(new Error('aborted'), { name: 'AbortError' }));
    };
    const settle = (err: unknown, value?: { status: number; headers: IncomingHttpHeaders; text: string }) => {
      if (settled) return;
      settled = true;
      call.signal.removeEventListener('abort', onAbort);
      if (err === null && value) resolve(value);
      else reject(failureForNetworkError(err, call.timedOut()));
    };
    call.signal.addEventListener('abort', onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (call.signal.aborted) onAbort();
      },
      onResponseStart(_c, statusCode, h) {
        status = statusCode;
        headers = h;
      },
      onResponseData(c, chunk) {
        size += chunk.length;
        const ok = status >= 200 && status < 300;
        if (ok && size > maxBytes) {
          c.abort(new ProviderCallError('bad_response', `response body larger than ${maxBytes} bytes`));
          return;
        }
        if (ok || size - chunk.length < ERROR_BODY_MAX_BYTES) chunks.push(chunk);
      },
      onResponseEnd() {
        const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
        if (status >= 200 && status < 300) settle(null, { status, headers, text });
        else settle(failureForStatus(status, text, headerValue(headers['retry-after'])));
      },
      onResponseError(_c, err) {
        settle(err);
      },
    };
    try {
      dispatcher.dispatch({ origin: url.origin, path: url.pathname + url.search, method: call.method, headers: requestHeaders(call, payload), body: payload }, handler);
    } catch (err) {
      settle((err as { code?: string }).code === 'UND_ERR_INVALID_ARG' ? new ProviderCallError('http_4xx', `invalid request to ${call.url}: ${(err as Error).message}`) : err);
    }
  });
}

/**
 * Sends a request (JSON body when `body` is set) and resolves once the response headers arrived with a 2xx status.
 * @throws ProviderCallError: network failures (refused, reset, timeout, aborted) and non-2xx statuses
 *   (429 with Retry-After, 5xx, 401/403, other 4xx), classified for the retry policy; `http_4xx` for an invalid URL.
 */
export async function openRequest(call: HttpCall): Promise<OpenResponse> {
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  const headers = requestHeaders(call, payload);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(call.url, { method: call.method, headers, body: payload, signal: call.signal, dispatcher });
  } catch (err) {
    if ((err as { code?: string }).code === 'UND_ERR_INVALID_ARG' || err instanceof TypeError) {
      throw new ProviderCallError('http_4xx', `invalid URL ${call.url}`);
    }
    throw failureForNetworkError(err, call.timedOut());
  }
  const status = res.statusCode;
  if (status >= 200 && status < 300) return { status, headers: res.headers, body: res.body };
  let text: string;
  try {
    text = await readAll(res.body, ERROR_BODY_MAX_BYTES);
  } catch (err) {
    throw failureForNetworkError(err, call.timedOut());
  }
  throw failureForStatus(status, text, headerValue(res.headers['retry-after']));
}

/** Reads a whole body as UTF-8 (at most `max` bytes are kept; the rest is read and dropped). Used for error bodies. */
export async function readAll(body: AsyncIterable<Buffer>, max = RESPONSE_BODY_MAX_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    if (size < max) chunks.push(c);
    size += c.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON body. @throws ProviderCallError `bad_response` for malformed JSON. */
export function parseJsonBody<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ProviderCallError('bad_response', `malformed JSON from ${what}`);
  }
}

/**
 * Every line of a byte stream (`\n` or `\r\n` endings, empty lines included), plus a final unterminated line when
 * `partialLast`. Decodes UTF-8 across chunk boundaries, so a character split between two network chunks is never
 * mangled.
 */
async function* rawLines(res: AsyncIterable<Buffer>, partialLast: boolean): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of res) {
    buf += decoder.write(chunk);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      yield buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
    }
  }
  buf += decoder.end();
  if (partialLast && buf !== '') yield buf;
}

/** Splits a byte stream into non-empty lines (NDJSON). */
export async function* lines(res: AsyncIterable<Buffer>): AsyncGenerator<string> {
  for await (const line of rawLines(res, true)) if (line.trim() !== '') yield line;
}

/** A server-sent event (`event:` name, joined `data:` lines). */
export interface SseEvent {
  event: string | null;
  data: string;
}

/**
 * Parses a text/event-stream body into events (WHATWG SSE: a blank line ends an event, `:` lines are comments); a
 * final line cut off mid-way is ignored.
 */
export async function* sseEvents(res: AsyncIterable<Buffer>): AsyncGenerator<SseEvent> {
  let event: string | null = null;
  let data: string[] = [];
  for await (const line of rawLines(res, false)) {
    if (line === '') {
      if (data.length > 0 || event) yield { event, data: data.join('\n') };
      event = null;
      data = [];
    } else if (line.startsWith('data:')) {
      data.push(line.slice(5).replace(/^ /, ''));
    } else if (line.startsWith('event:')) {
      event = line.slice(6).trim();
    }
  }
  if (data.length > 0) yield { event, data: data.join('\n') };
}

function headerValue(v: string | string[] | undefined): string | null {
  if (Array.isArray(v)) return v[0] ?? null;
  return v ?? null;
}

/** Wraps a body iterator so a network error mid-body becomes a classified ProviderCallError. */
export async function* guardStream<T>(it: AsyncIterable<T>, timedOut: () => boolean): AsyncGenerator<T> {
  try {
    for await (const x of it) yield x;
  } catch (err) {
    if (err instanceof ProviderCallError) throw err;
    const e = failureForNetworkError(err, timedOut());
    if (e.kind === 'connection_reset') throw new ProviderCallError('stream_interrupted', `stream cut: ${e.message}`);
    throw e;
  }
}
