import { Injectable, type PipeTransform } from '@nestjs/common';
import { AppError } from '../common/app-error';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Validates an upgrade id route parameter. @throws AppError `request/invalid_id` (400) unless a lowercase uuid. */
@Injectable()
export class UpgradeIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !UUID_RE.test(value)) throw new AppError('request/invalid_id', 'Upgrade id must be a uuid', 400);
    return value;
  }
}
