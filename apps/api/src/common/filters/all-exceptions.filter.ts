import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ErrorResponse } from '@app/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../app-error';
import { isClientAbort, requestErrorBody } from '../http-edge';

const STATUS_CODES: Record<number, string> = {
  400: 'request/bad_request',
  401: 'auth/unauthenticated',
  403: 'auth/forbidden',
  404: 'request/not_found',
  405: 'request/method_not_allowed',
  409: 'request/conflict',
  413: 'request/payload_too_large',
  415: 'request/unsupported_media_type',
  422: 'request/unprocessable',
  429: 'request/rate_limited',
};

/** Where unexpected (5xx) errors are recorded besides the log: the event log's `system.error`. */
export type ErrorSink = (info: { method: string; path: string; message: string }) => void;

/**
 * Renders every error as `{ statusCode, code, message }`. Unexpected errors (5xx that are not an AppError) are logged
 * with their stack (never request bodies) and, for authenticated requests only, reported to `sink` as method + route
 * path + error message (anonymous traffic never writes to the event log); clients only see "Internal server error".
 * An AppError with a 5xx status (503 all providers failed, 503 shutting down) is a handled condition: one warning
 * line, its code and message go to the client. Fastify's request errors (FST_ERR_*, 4xx statusCode) keep their 4xx
 * with a `request/...` code; a client that went away mid-request (aborted upload) is a debug line, nothing else.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly sink?: ErrorSink) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const res = host.switchToHttp().getResponse<FastifyReply>();
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    const path = req.routeOptions?.url ?? req.url.split('?')[0];
    if (!(exception instanceof HttpException) && !(exception instanceof AppError) && isClientAbort(exception, req)) {
      this.logger.debug(`${req.method} ${path}: client aborted the request`);
      if (!res.raw.destroyed && !res.sent) {
        void res.status(400).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ statusCode: 400, code: 'request/aborted', message: 'The request was aborted' }));
      }
      return;
    }
    const body = this.toBody(exception);
    if (body.statusCode >= 500 && exception instanceof AppError) {
      // a handled condition with its own code (e.g. 503 router/all_providers_failed): one line, no stack, no event
      this.logger.warn(`${req.method} ${path} -> ${body.statusCode} ${body.code}: ${body.message.slice(0, 300)}`);
    } else if (body.statusCode >= 500) {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
      if ((req as { principal?: unknown }).principal) {
        this.sink?.({ method: req.method, path, message: (exception instanceof Error ? exception.message : String(exception)).slice(0, 300) });
      }
    }
    if (res.sent || res.raw.headersSent) {
      if (!res.raw.writableEnded) res.raw.end();
      return;
    }
    // always JSON text: a route that declared another content type (CSV export, SVG QR code) would otherwise make
    // Fastify refuse the object payload (FST_ERR_REP_INVALID_PAYLOAD_TYPE) and turn a 400 into a 500
    void res.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  }

  private toBody(exception: unknown): ErrorResponse {
    if (exception instanceof AppError) {
      return { statusCode: exception.statusCode, code: exception.code, message: exception.message, details: exception.details };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const resp = exception.getResponse() as string | { message?: string | string[]; code?: string };
      let message = typeof resp === 'string' ? resp : resp.message ?? exception.message;
      if (Array.isArray(message)) message = message.join('; ');
      const code = (typeof resp === 'object' && resp.code) || STATUS_CODES[status] || 'request/error';
      return { statusCode: status, code, message };
    }
    const request = requestErrorBody(exception);
    if (request) return request;
    return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, code: 'server/internal', message: 'Internal server error' };
  }
}
