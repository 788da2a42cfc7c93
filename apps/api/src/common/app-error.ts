/**
 * Domain error with a stable `domain/reason` code and the HTTP status it maps to.
 * Thrown by services; the global filter renders it as `{ statusCode, code, message }`.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(code: string, message: string): AppError {
    return new AppError(code, message, 404);
  }

  static conflict(code: string, message: string): AppError {
    return new AppError(code, message, 409);
  }

  static forbidden(code: string, message: string): AppError {
    return new AppError(code, message, 403);
  }
}
