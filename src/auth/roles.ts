import { SetMetadata, createParamDecorator, ExecutionContext } from '@nestjs/common';

export const ROLES = ['admin', 'analyst', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

export interface AuthUser {
  sub: string;
  roles: Role[];
}

export const IS_PUBLIC_KEY = 'auth:public';
export const ROLES_KEY = 'auth:roles';

/** Open route: no token needed (health, metrics, docs). */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

/** Any one of these roles may call the route. Routes without @Roles need `admin`. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** The verified token's subject and roles. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthUser =>
    ctx.switchToHttp().getRequest<{ user: AuthUser }>().user,
);
