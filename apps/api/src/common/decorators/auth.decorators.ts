import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal, Role } from '@app/contracts';

export const IS_PUBLIC_KEY = 'auth:isPublic';
export const ROLES_KEY = 'auth:roles';

/** Marks a route as reachable without authentication (health and login only). */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

/**
 * Restricts a route to the given roles. `admin` always passes. Without this decorator any authenticated
 * principal may call the route.
 */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Injects the authenticated `Principal` (set on the request by the global AuthGuard). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  return req.principal as Principal;
});

/** Roles allowed to change swarm state from the dashboard (approve, answer, spend, post tasks). */
export const OPERATOR_ROLES: Role[] = ['admin', 'operator'];
