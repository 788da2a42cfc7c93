import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ErrorResponse } from '@app/contracts';
import type { Response } from 'express';
import { AppError } from '../app-error';

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

/** Maps body-parser errors (malformed JSON, too large) that reach Nest as plain errors with a `status`/`type`. */
function fromBodyParser(err: unknown): ErrorResponse | null {
  const e = err as { status?: number; type?: string; message?: string };
  if (typeof e?.status !== 'number' || typeof e.type !== 'string') return null;
  if (e.type === 'entity.parse.failed') return { statusCode: 400, code: 'request/malformed_json', message: 'Malformed JSON body' };
  if (e.type === 'entity.too.large') return { statusCode: 413, code: 'request/payload_too_large', message: 'Request body too large' };
  return { statusCode: e.status, code: STATUS_CODES[e.status] ?? 'request/error', message: e.message ?? 'Bad request' };
}

/** Where unexpected (5xx) errors are recorded besides the log: the event log's `system.error`. */
export type ErrorSink = (info: { method: string; path: string; message: string }) => void;

/**
 * Renders every error as `{ statusCode, code, message }`. 5xx are logged (stack, never request bodies) and reported
 * to `sink` as method + route path + error message; clients only see "Internal server error".
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly sink?: ErrorSink) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<{ method: string; path: string }>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
      this.sink?.({ method: req.method, path: req.path, message: (exception instanceof Error ? exception.message : String(exception)).slice(0, 300) });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(body.statusCode).json(body);
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
    const bp = fromBodyParser(exception);
    if (bp) return bp;
    return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, code: 'server/internal', message: 'Internal server error' };
  }
}
