import type { Socket } from 'node:net';
import type { ErrorResponse } from '@app/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * What the HTTP edge refuses before any handler runs (issue 11, appendix findings 1, 3, 5, 7), and the error bodies of
 * the errors Fastify and Node's HTTP parser produce outside Nest's exception filter.
 */

/** Deepest nesting of arrays/objects accepted in a JSON body (the body itself is level 1). */
export const MAX_JSON_DEPTH = 32;

/** An error body in the API's one shape. */
export function errorBody(statusCode: number, code: string, message: string): ErrorResponse {
  return { statusCode, code, message };
}

/**
 * True when the JSON text nests arrays/objects deeper than `max`. One pass over the characters, skipping string
 * contents (escapes included), no recursion: a body of 100,000 `[` costs one loop, not a stack overflow.
 */
export function jsonDepthExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** A NUL character or a UTF-16 surrogate without its partner: text PostgreSQL cannot store (and nobody means). */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `s` holds a NUL or a lone surrogate. */
export function isUnstorableText(s: string): boolean {
  return UNSTORABLE.test(s);
}

/**
 * The JSON path (`$.data.x`) of the first string or object key holding a NUL or a lone surrogate, or null. Walks
 * iteratively (the depth was already bounded by jsonDepthExceeds).
 */
export function findUnstorableText(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '$']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (isUnstorableText(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], `${path}[${i}]`]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (isUnstorableText(k)) return `${path} (a key)`;
        stack.push([child, `${path}.${k}`]);
      }
    }
  }
  return null;
}

/**
 * Fastify's own request errors (content-type parser, router) as `{ status, code }`; anything else with a 4xx
 * `statusCode` keeps its status with `request/bad_request`.
 */
export const FASTIFY_ERRORS: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_BAD_URL: { status: 400, code: 'request/bad_url', message: 'The URL is not validly percent-encoded' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'request/param_too_long', message: 'A path parameter is too long' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'request/bad_request' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'request/payload_too_large', message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'request/unsupported_media_type', message: 'Unsupported Content-Type (send application/json)' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'request/bad_content_length', message: 'Body length does not match Content-Length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'request/malformed_json', message: 'Malformed JSON body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'request/malformed_json', message: 'Malformed JSON body' },
  FST_ERR_CTP_INVALID_CONTENT_TYPE: { status: 415, code: 'request/unsupported_media_type', message: 'Invalid Content-Type header' },
};

/**
 * Whether an error means the client went away mid-request (aborted upload, reset connection): not a server fault.
 * The request stream's `readableAborted` (destroyed before its body ended) and a destroyed socket say so;
 * `req.raw.destroyed` does not: Node (>= 16, autoDestroy) marks every request whose body was read to the end as
 * destroyed, so it would turn each unexpected 500 on a request with a body into a 400 "aborted".
 */
export function isClientAbort(err: unknown, req?: FastifyRequest): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (e?.code === 'ECONNRESET' || e?.code === 'ECONNABORTED' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE') return true;
  if (e?.message === 'aborted' || e?.message === 'Request aborted') return true;
  return Boolean(req?.raw.readableAborted || req?.raw.socket?.destroyed);
}

/**
 * The body and status of a Fastify/Node request error that is not an HttpException, or null when it is not one
 * (then it is an unexpected server error).
 */
export function requestErrorBody(err: unknown): ErrorResponse | null {
  const e = err as { code?: string; statusCode?: number; message?: string } | null;
  if (!e || typeof e !== 'object') return null;
  const known = e.code ? FASTIFY_ERRORS[e.code] : undefined;
  if (known) return errorBody(known.status, known.code, known.message ?? String(e.message ?? 'Bad request'));
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return errorBody(e.statusCode, 'request/bad_request', String(e.message ?? 'Bad request').slice(0, 300));
  }
  return null;
}

/**
 * Fastify `frameworkErrors`: router errors (bad percent-encoding, over-long parameter) in the API's shape, with the
 * security headers (Fastify runs no hook for these).
 */
export function frameworkErrorHandler(securityHeaders: Record<string, string>) {
  return (err: Error, _req: FastifyRequest, reply: FastifyReply): void => {
    const body = requestErrorBody(err) ?? errorBody(400, 'request/bad_request', 'Bad request');
    void reply.code(body.statusCode).headers(securityHeaders).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  };
}

/**
 * Fastify `clientErrorHandler` (Node's HTTP parser rejected the request before Fastify saw it): headers too large is
 * 431 `request/headers_too_large`, a timeout 408 `request/timeout`, anything else 400 `request/malformed_http`, each
 * with a JSON body and the security headers. A reset connection gets nothing (there is no one to answer).
 */
export function clientErrorHandler(securityHeaders: Record<string, string>) {
  const extra = Object.entries(securityHeaders)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, reason, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'request/headers_too_large', 'Request headers are too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'request/timeout', 'The request was not received in time']
          : [400, 'Bad Request', 'request/malformed_http', 'Malformed HTTP request'];
    const body = JSON.stringify(errorBody(status, code, message));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `${extra}Connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/**
 * Fastify's trustProxy from the TRUST_PROXY setting: '' / false -> false, true, a hop count n (trust the n nearest
 * proxies), or a proxy-addr string as is (`loopback`, `10.0.0.0/8,127.0.0.1`).
 */
export function trustProxyOption(value: string | undefined): boolean | string | ((address: string, hop: number) => boolean) {
  const v = (value ?? '').trim();
  if (v === '' || /^(false|0|no|off)$/i.test(v)) return false;
  if (/^(true|yes|on)$/i.test(v)) return true;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return (_address: string, hop: number) => hop < hops;
  }
  return v;
}
