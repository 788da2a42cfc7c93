import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../../common/decorators/api-errors.decorator';
import type { L402ServiceName } from './l402-config';
import { L402ReleaseInterceptor } from './l402-release.interceptor';

/** Route metadata: the L402 service name of a priced route. */
export const L402_SERVICE_KEY = 'l402:service';

/**
 * Marks a route as priceable under L402 service `service` (priced only when `L402_ROUTES` names it). Adds the
 * release interceptor and documents the 402 challenge and the `Authorization: L402 ...` credentials in Swagger.
 */
export function L402Priced(service: L402ServiceName) {
  return applyDecorators(
    SetMetadata(L402_SERVICE_KEY, service),
    UseInterceptors(L402ReleaseInterceptor),
    ApiHeader({
      name: 'Authorization',
      required: false,
      description:
        `When L402_ROUTES prices \`${service}\`: \`L402 <base64 macaroon>:<preimage hex>\` (or \`LSAT ...\`) instead of an API key. ` +
        'One paid token buys one call of this route (ADR 0011).',
    }),
    ApiResponse({
      status: 402,
      type: ErrorResponseDto,
      description:
        `Payment required (L402, only when L402_ROUTES prices \`${service}\` and the caller sent no API key or session). ` +
        'Code `l402/payment_required` with `details: { service, invoice, paymentHash, amountSats, amountMsat, expiresAt }`; ' +
        '`l402/invoice_unpaid` when the presented token\'s invoice is not paid yet. Pay the invoice, then retry with ' +
        '`Authorization: L402 <macaroon>:<preimage hex>`. A refused token (bad signature, expired, other service, wrong ' +
        'preimage, already used) is a 401 with an `l402/...` code.',
      headers: {
        'WWW-Authenticate': {
          description: 'L402 challenge: `L402 macaroon="<base64>", invoice="<bolt11>"`',
          schema: { type: 'string', example: 'L402 macaroon="AgEad...", invoice="lnbcrt10u1p..."' },
        },
      },
    }),
  );
}
