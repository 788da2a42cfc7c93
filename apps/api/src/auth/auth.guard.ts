import { CanActivate, ExecutionContext, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@app/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authError } from './auth.errors';
import { IS_PUBLIC_KEY, ROLES_KEY } from '../common/decorators/auth.decorators';
import { L402_SERVICE_KEY } from '../ledger/l402/l402.decorator';
import { isL402Authorization } from '../ledger/l402/l402-token';
import { L402Service } from '../ledger/l402/l402.service';
import { SESSION_COOKIE } from './auth.constants';
import { AuthService, type ResolvedPrincipal } from './auth.service';
import { CsrfService } from './csrf.service';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Reads `Authorization: Bearer <token>`; null when absent or not a bearer header. */
export function bearerToken(req: { headers: FastifyRequest['headers'] }): string | null {
  const h = req.headers.authorization;
  if (!h || !h.startsWith('Bearer ')) return null;
  return h.slice(7).trim() || null;
}

/**
 * Global guard: every route needs a principal unless marked `@Public()`.
 * Bearer API keys in `Authorization` (never session tokens), or the session cookie (never API keys); cookie-authenticated
 * state-changing requests also need a valid `x-csrf-token`. `@Roles(...)` narrows the roles (admin always passes).
 * On an `@L402Priced` route with L402 on (ADR 0011), `L402Service.gate` runs first: no credentials = 402 challenge,
 * `Authorization: L402 ...` = a paid token, admitted to that route only as an `l402` principal (its payment is the
 * authorization, so `@Roles` does not apply to it); API keys and sessions go through the ordinary path unchanged.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly csrf: CsrfService,
    @Optional() private readonly l402?: L402Service,
  ) {}

  /** `@Public()` / `@Roles()` of a route handler, read once per handler (decorator metadata is fixed after boot). */
  private readonly rules = new WeakMap<object, { isPublic: boolean; roles: Role[] | undefined; l402: string | undefined }>();

  private ruleFor(ctx: ExecutionContext): { isPublic: boolean; roles: Role[] | undefined; l402: string | undefined } {
    const handler = ctx.getHandler();
    let rule = this.rules.get(handler);
    if (!rule) {
      const targets = [handler, ctx.getClass()];
      rule = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true,
        roles: this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets),
        l402: this.reflector.getAllAndOverride<string | undefined>(L402_SERVICE_KEY, targets),
      };
      this.rules.set(handler, rule);
    }
    return rule;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const rule = this.ruleFor(ctx);
    if (rule.isPublic) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { principal?: ResolvedPrincipal }>();
    if (this.l402 && (rule.l402 !== undefined || isL402Authorization(req.headers.authorization))) {
      const paid = await this.l402.gate(req, ctx.switchToHttp().getResponse<FastifyReply>(), rule.l402);
      if (paid) {
        req.principal = paid;
        return true;
      }
    }
    const bearer = bearerToken(req);
    let principal: ResolvedPrincipal | null = null;
    if (bearer) {
      principal = await this.auth.resolveToken(bearer, 'api_key');
      if (!principal) throw authError('auth/invalid_token', 'Invalid, expired or revoked API key (a session token is only valid as the cookie)', 401);
    } else {
      const cookie = req.cookies?.[SESSION_COOKIE];
      principal = cookie ? await this.auth.resolveToken(cookie, 'session') : null;
      if (!principal) throw authError('auth/unauthenticated', 'Login or send an API key (Authorization: Bearer mck_...)', 401);
      if (!SAFE_METHODS.has(req.method) && !this.csrf.validate(req)) {
        throw authError('auth/csrf_invalid', 'Missing or invalid x-csrf-token header', 403);
      }
    }
    req.principal = principal;
    const roles = rule.roles;
    if (roles && principal.role !== 'admin' && !roles.includes(principal.role)) {
      throw authError('auth/forbidden', `Requires role ${roles.join(' or ')}; you are ${principal.role}`, 403);
    }
    return true;
  }
}
