import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { catchError, from, mergeMap, throwError, type Observable } from 'rxjs';
import { L402Service, type L402Redemption } from './l402.service';

/**
 * On a priced route: when the call of an L402-authenticated request fails (validation 400, a 4xx/5xx of the
 * service), its redemption is released, so the token that paid for it can be used again. Successful calls keep it
 * (the token is spent). Requests authenticated otherwise pass through untouched.
 */
@Injectable()
export class L402ReleaseInterceptor implements NestInterceptor {
  constructor(private readonly l402: L402Service) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<{ l402?: L402Redemption }>();
    const redemption = req.l402;
    if (!redemption) return next.handle();
    return next.handle().pipe(catchError((err: unknown) => from(this.l402.release(redemption)).pipe(mergeMap(() => throwError(() => err)))));
  }
}
