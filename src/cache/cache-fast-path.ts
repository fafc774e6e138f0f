import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AuthUser, Role } from '../auth/roles';
import { TokenService } from '../auth/token.service';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { markPrecounted, throttleCounterKey, trackerOf } from '../throttle/precounted';
import { CONTENT_TYPES, CacheRequestFactory, RoutePlan, representationOf } from './cache-request';
import { CacheService } from './cache.service';
import { RedisConnection } from './redis.connection';

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Cache hits answered from a Fastify onRequest hook, before the Nest pipeline (guards,
 * interceptors, pipes, rxjs) and the request middleware run: a plain cacheable GET with a valid
 * token of an admitted role costs one Redis round trip (rate-limit counter + version tokens in
 * one script) and, with the answer in the in-process L1, nothing more.
 *
 * It only ever answers HIT. Anything else — no plan yet for the route (the first request through
 * Nest reveals it), a missing/invalid token or role (401/403), a Cache-Control header, input the
 * pipe would reject, Redis paused or failing, a pending version bump, over the rate limit, or no
 * cached answer — goes on to the full path unchanged, which then answers exactly as before. A
 * request already counted against the rate limit carries its count along, so the guard does not
 * count it twice.
 */
@Injectable()
export class CacheFastPath {
  private readonly windowMs: number;

  constructor(
    private readonly requests: CacheRequestFactory,
    private readonly cache: CacheService,
    private readonly tokens: TokenService,
    private readonly redis: RedisConnection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.windowMs = config.throttle.ttlSeconds * 1000;
  }

  /** The onRequest hook: answers a hit, or calls `done` to let the request go on. */
  onRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (request.method !== 'GET' || request.headers['cache-control'] !== undefined) return done();
    const route = request.routeOptions.url;
    if (route === undefined || !this.cache.fastPathReady) return done();
    const plan = this.requests.planForRoute(route);
    if (!plan?.roles || !plan.globalThrottle) return done();
    this.serve(request, reply, plan, plan.roles).then(
      (answered) => {
        if (!answered) done();
      },
      () => done(),
    );
  }

  private async serve(
    request: FastifyRequest,
    reply: FastifyReply,
    plan: RoutePlan,
    roles: Role[],
  ): Promise<boolean> {
    const client = this.redis.client;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!client || !match) return false;
    let user: AuthUser;
    try {
      user = this.tokens.verify(match[1]);
    } catch {
      return false; // the guard answers 401 in the service's shape
    }
    if (!user.roles.some((role) => roles.includes(role))) return false;
    const normalized = this.requests.normalize(
      plan,
      request.url,
      request.query as Record<string, unknown> | undefined,
      request.params as Record<string, string> | undefined,
    );
    if (!normalized) return false;
    const representation = representationOf(plan, request);
    const cacheRequest = this.requests.build(plan, normalized, representation, new Date());
    if (!cacheRequest) return false;

    // The rate limit exactly as the guard applies it (throttle.module.ts).
    (request as { user?: AuthUser }).user = user;
    const limit = user.roles.includes('ingest')
      ? this.config.throttle.ingestLimit
      : this.config.throttle.limit;
    const counter = throttleCounterKey(
      this.config.redis.keyPrefix,
      trackerOf({ user, ip: request.ip }),
    );
    const versions = this.cache.versionRequest(cacheRequest.scope);
    let result: [number, number, number, ...string[]];
    try {
      result = await this.cache.storeCall(
        client.trendFastHit(
          2 + versions.keys.length,
          counter,
          `${counter}:blocked`,
          ...versions.keys,
          this.windowMs,
          limit,
          this.windowMs,
          versions.ttlSeconds,
          ...versions.fresh,
        ),
      );
    } catch {
      return false; // Redis is now paused: the full path counts per process and bypasses
    }
    const [hits, windowLeftMs, blockedMs, ...tokens] = result;
    const record = {
      totalHits: hits,
      timeToExpire: Math.ceil(windowLeftMs / 1000),
      isBlocked: blockedMs > 0,
      timeToBlockExpire: Math.ceil(blockedMs / 1000),
    };
    const answer = record.isBlocked ? null : await this.cache.lookupExact(cacheRequest, tokens);
    if (!answer) {
      markPrecounted(request, record);
      return false;
    }
    void reply
      .header('X-RateLimit-Limit', limit)
      .header('X-RateLimit-Remaining', Math.max(0, limit - hits))
      .header('X-RateLimit-Reset', record.timeToExpire)
      .header('X-Cache', 'HIT')
      .header('Age', String(Math.max(0, Math.floor((Date.now() - answer.at) / 1000))))
      .header('Content-Type', CONTENT_TYPES[representation])
      .send(answer.body);
    return true;
  }
}
