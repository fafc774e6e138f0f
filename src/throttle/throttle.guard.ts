import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { AuthUser } from '../auth/roles';

/** Probes, scrapes and API docs are never limited, whichever module serves them. */
const EXEMPT = /^\/(health|metrics|monitoring\/(health|metrics)|api\/docs)(\/|-json|$)/;

type TrackedRequest = FastifyRequest & { user?: AuthUser };

/**
 * Registered after the auth guard, so `request.user` is set: limits are per token subject when
 * authenticated, per client IP otherwise (routes without a token are public ones).
 */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return EXEMPT.test(request.routeOptions?.url ?? request.url);
  }
}

export function trackerOf(request: TrackedRequest): string {
  if (request.user?.sub)
    return `sub:${createHash('sha1').update(request.user.sub).digest('base64url')}`;
  return `ip:${request.ip}`;
}

export function isIngestCaller(context: ExecutionContext): boolean {
  return (
    context.switchToHttp().getRequest<TrackedRequest>().user?.roles.includes('ingest') ?? false
  );
}
