import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, from, lastValueFrom } from 'rxjs';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { parseCacheControl } from './cache-control';
import { CONTENT_TYPES, CacheRequestFactory, representationOf } from './cache-request';
import { CacheService } from './cache.service';

export { CACHED_ROUTE_PREFIXES, stableJson } from './cache-request';

/**
 * Global interceptor: cache-aside around cacheable GETs. Interceptors run before pipes, so the
 * query is validated here with the ValidationPipe's options to build a normalized key; input the
 * pipe would reject is passed through uncached and answered 400 by the pipe as usual. Hits of
 * plain requests are usually answered earlier, by the fast path (cache-fast-path.ts), once a
 * request through here has revealed the route's plan.
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  constructor(
    private readonly requests: CacheRequestFactory,
    private readonly cache: CacheService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const route = request.routeOptions?.url;
    if (request.method !== 'GET' || !route) return next.handle();
    const plan = this.requests.planFor(context, route);
    if (!plan) return next.handle();

    const normalized = this.requests.normalize(
      plan,
      request.url,
      request.query as Record<string, unknown> | undefined,
      request.params as Record<string, string> | undefined,
    );
    const representation = representationOf(plan, request);
    const prepared = normalized
      ? this.requests.build(plan, normalized, representation, new Date())
      : null;
    if (!prepared) return next.handle();
    const directives = parseCacheControl(
      request.headers['cache-control'],
      this.config.redis.ttlSeconds,
    );
    const reply = http.getResponse<FastifyReply>();
    return from(
      this.cache
        .serve(prepared, directives, () => lastValueFrom(next.handle()))
        .then((answer) => {
          void reply.header('X-Cache', answer.status);
          if (answer.age !== undefined) void reply.header('Age', String(answer.age));
          if (typeof answer.body === 'string')
            void reply.header('Content-Type', CONTENT_TYPES[representation]);
          return answer.body;
        }),
    );
  }
}
