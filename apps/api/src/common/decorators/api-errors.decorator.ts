import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';

/** Swagger schema of the error body every endpoint returns. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'request/bad_request', description: 'Stable `domain/reason` code' }) code: string;
  @ApiProperty({ example: 'description must be a string' }) message: string;
}

const TEXT: Record<number, string> = {
  400: 'Invalid input (validation failed, malformed JSON)',
  401: 'Not authenticated',
  403: 'Authenticated but not allowed (role, or missing CSRF token on a cookie session)',
  404: 'Unknown id',
  409: 'Conflict with the current state',
  413: 'Body too large',
  429: 'Rate limited',
  503: 'Service unavailable',
};

/** Documents the error responses of an endpoint with the shared error schema. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(...statuses.map((s) => ApiResponse({ status: s, description: TEXT[s] ?? 'Error', type: ErrorResponseDto })));
}
