import { Injectable, type PipeTransform } from '@nestjs/common';
import { AppError } from '../app-error';

/** Every swarm id (agent, task, message, question, persona): 1-64 letters, digits, `_` or `-`. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Validates an id route parameter.
 * @throws AppError `request/invalid_id` (400) when it does not match `^[A-Za-z0-9_-]{1,64}$`.
 */
@Injectable()
export class IdParamPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw new AppError('request/invalid_id', 'id must match ^[A-Za-z0-9_-]{1,64}$', 400);
    }
    return value;
  }
}
