import { applyDecorators } from '@nestjs/common';
import { IsISO8601, Max, ValidateBy, ValidateIf } from 'class-validator';

/**
 * An optional field that may be left out but not sent as `null`: class-validator's `@IsOptional()` skips every
 * validator for `null` too, so `{"disabled": null}` reached the database's NOT NULL constraint as a 500 (issue 11,
 * appendix finding 3). Use `@IsOptional()` only where `null` is a meaningful value.
 */
export function Optional(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}

/**
 * An ISO-8601 timestamp that JavaScript's Date can read: `IsISO8601` alone also admits ordinal (`2026-100`) and week
 * (`2026-W05`) dates, which `new Date()` turns into Invalid Date and `toISOString()` into a RangeError (a 500).
 */
export function IsTimestamp(): PropertyDecorator {
  return applyDecorators(
    IsISO8601({ strict: true }),
    ValidateBy({
      name: 'isTimestamp',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && Number.isFinite(Date.parse(value)),
        defaultMessage: (args) => `${args?.property ?? 'value'} must be a date-time like 2026-11-21T10:00:00.000Z`,
      },
    }),
  );
}

/** Largest event-log cursor accepted (2^53 - 1): beyond it numbers lose integer precision and PostgreSQL's bigint range. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** A seq cursor bound: at most MAX_SEQ (combine with `@IsInt() @Min(0)`). */
export function MaxSeq(): PropertyDecorator {
  return Max(MAX_SEQ, { message: (args) => `${args.property} must not be greater than ${MAX_SEQ}` });
}
