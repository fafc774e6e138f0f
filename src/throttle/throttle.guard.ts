import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerRequest } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { AuthUser } from '../auth/roles';
import { takePrecounted } from './precounted';

export { trackerOf } from './precounted';

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

  /**
   * A request the cache fast path already counted (in its one Redis round trip) is judged on
   * that count: same headers, same 429, but no second increment.
   */
  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const record = takePrecounted(props.context.switchToHttp().getRequest<FastifyRequest>().raw);
    if (!record) return super.handleRequest(props);
    const storageService: ThrottlerStorage = { increment: () => Promise.resolve(record) };
    const view = Object.create(this, { storageService: { value: storageService } }) as this;
    return super.handleRequest.call(view, props);
  }
}

export function isIngestCaller(context: ExecutionContext): boolean {
  return (
    context.switchToHttp().getRequest<TrackedRequest>().user?.roles.includes('ingest') ?? false
  );
}
