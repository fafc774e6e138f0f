import { Inject, Injectable } from '@nestjs/common';
import Router from 'find-my-way';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthUser } from '../auth/roles';
import { TokenService } from '../auth/token.service';
import { elapsedMs } from '../common/http-server';
import { LifecycleService } from '../common/lifecycle.service';
import { RequestLog } from '../common/request-log';
import { requestIdFrom } from '../common/request-id';
import { staticSecurityHeaders } from '../common/security-headers';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { markPrecounted, subjectTracker, throttleCounterKey } from '../throttle/precounted';
import { CONTENT_TYPES, CacheRequestFactory, RoutePlan, representationOf } from './cache-request';
import { CacheService } from './cache.service';
import { RedisConnection } from './redis.connection';

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The options of Fastify's router (find-my-way) that differ from its defaults, given to both
 * Fastify and the fast path's router so that both resolve a URL to the same route and params.
 * Trend keys are up to 200 characters (800 bytes of UTF-8) in the series path.
 */
export const ROUTER_OPTIONS = { maxParamLength: 1024 } as const;

/** What the fast path's router keeps per GET route. */
interface RouteEntry {
  route: string;
}

type Matched = { plan: RoutePlan; params: Record<string, string>; query: Record<string, unknown> };

/**
 * Cache hits answered on the bare node:http request, before Fastify builds its request and
 * reply, runs its hooks or routes, and before the Nest pipeline (guards, interceptors, pipes,
 * rxjs): a plain cacheable GET with a valid token of an admitted role costs one Redis round
 * trip (rate-limit counter + version tokens in one script) and, with the answer in the
 * in-process L1, nothing more. The answer carries what Fastify's would: helmet's headers
 * (computed once, src/common/security-headers.ts), X-Request-Id, the rate-limit headers,
 * X-Cache/Age; it is counted in api_response_time_seconds and written to the request log.
 *
 * It only ever answers HIT. Anything else goes on to Fastify unchanged, which then answers
 * exactly as before: a route no request has shown to be cached yet (the first request through
 * Nest reveals its plan), a missing/invalid token or role (401/403), a Cache-Control header,
 * a request body, input the pipe would reject, shutdown under way (answers must say
 * `Connection: close`), Redis paused or failing, a pending version bump, over the rate limit,
 * or no cached answer. With CORS_ORIGINS set it answers nothing: @fastify/cors puts headers
 * on every answer (`Vary: Origin` among them) that only Fastify knows. A request already
 * counted against the rate limit carries its count along, so the guard does not count it
 * twice.
 */
@Injectable()
export class CacheFastPath {
  private readonly windowMs: number;
  private readonly corsEnabled: boolean;
  private readonly securityHeaders = staticSecurityHeaders();
  /** Every GET route of the application, so a URL resolves to the route Fastify would pick. */
  private readonly router = Router(ROUTER_OPTIONS);

  constructor(
    private readonly requests: CacheRequestFactory,
    private readonly cache: CacheService,
    private readonly tokens: TokenService,
    private readonly redis: RedisConnection,
    private readonly lifecycle: LifecycleService,
    private readonly metrics: MetricsService,
    private readonly requestLog: RequestLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.windowMs = config.throttle.ttlSeconds * 1000;
    this.corsEnabled = config.corsOrigins.length > 0;
  }

  /**
   * Called for each route Fastify registers (its onRoute hook). Routes with constraints (host,
   * version) are left out: Fastify picks among those by more than the URL.
   */
  addRoute(methods: string | string[], url: string, constraints?: object): void {
    if (!(Array.isArray(methods) ? methods : [methods]).includes('GET')) return;
    if (constraints && Object.keys(constraints).length > 0) return;
    const entry: RouteEntry = { route: url };
    this.router.on('GET', url, () => undefined, entry);
  }

  /** The early handler of the HTTP server (src/common/http-server.ts). */
  handle(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const headers = req.headers;
    if (
      this.corsEnabled ||
      req.method !== 'GET' ||
      headers['cache-control'] !== undefined ||
      headers['content-length'] !== undefined ||
      headers['transfer-encoding'] !== undefined ||
      this.lifecycle.phase !== 'ready' ||
      !this.cache.fastPathReady
    ) {
      return next();
    }
    const header = headers.authorization;
    const bearer = header === undefined ? null : BEARER.exec(header);
    const matched = bearer ? this.match(req.url ?? '') : null;
    if (!bearer || !matched) return next();
    this.serve(req, res, matched, bearer[1]).then(
      (answered) => {
        if (!answered) next();
      },
      // Only before an answer was sent (the log or a metric failing after it must not send
      // a second one).
      () => {
        if (!res.headersSent) next();
      },
    );
  }

  /** The cached route a URL resolves to, with its params and query; null when none. */
  private match(url: string): Matched | null {
    let found: ReturnType<typeof this.router.find>;
    try {
      found = this.router.find('GET', url);
    } catch {
      return null; // undecodable: Fastify answers it
    }
    if (!found) return null;
    const plan = this.requests.planForRoute((found.store as RouteEntry).route);
    if (!plan?.roles || !plan.globalThrottle) return null;
    return {
      plan,
      params: found.params as Record<string, string>,
      query: found.searchParams as Record<string, unknown>,
    };
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    { plan, params, query }: Matched,
    token: string,
  ): Promise<boolean> {
    const client = this.redis.client;
    if (!client || !plan.roles) return false;
    let user: AuthUser;
    try {
      user = this.tokens.verify(token);
    } catch {
      return false; // the guard answers 401 in the service's shape
    }
    const roles = plan.roles;
    if (!user.roles.some((role) => roles.includes(role))) return false;
    const url = req.url ?? '';
    const normalized = this.requests.normalize(plan, url, query, params);
    if (!normalized) return false;
    const representation = representationOf(plan, { headers: req.headers, query });
    const cacheRequest = this.requests.build(plan, normalized, representation, new Date());
    if (!cacheRequest) return false;

    // The rate limit exactly as the guard applies it (throttle.module.ts).
    const limit = user.roles.includes('ingest')
      ? this.config.throttle.ingestLimit
      : this.config.throttle.limit;
    const counter = throttleCounterKey(this.config.redis.keyPrefix, subjectTracker(user.sub));
    const versions = this.cache.versionRequest(cacheRequest.scope);
    let result: [number, number, number, ...string[]];
    this.redis.coalesceWritesThisTurn();
    try {
      result = await this.cache.fastPathCall(
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
      markPrecounted(req, record);
      return false;
    }
    const id = requestIdFrom(req);
    const body = answer.bytes ?? Buffer.from(answer.body);
    // Shutdown may have begun during the Redis call: then this answer closes the connection.
    const closing = this.lifecycle.phase === 'stopping' ? ['Connection', 'close'] : [];
    res.writeHead(200, [
      ...closing,
      ...this.securityHeaders,
      'X-RateLimit-Limit',
      String(limit),
      'X-RateLimit-Remaining',
      String(Math.max(0, limit - hits)),
      'X-RateLimit-Reset',
      String(record.timeToExpire),
      'X-Cache',
      'HIT',
      'Age',
      String(Math.max(0, Math.floor((Date.now() - answer.at) / 1000))),
      'Content-Type',
      CONTENT_TYPES[representation],
      'Content-Length',
      String(body.length),
      'X-Request-Id',
      id,
    ]);
    res.end(body);
    const durationMs = elapsedMs(req, 0);
    this.metrics.apiResponseTime.observe(
      { method: 'GET', route: plan.route, status_code: '200' },
      durationMs / 1000,
    );
    this.requestLog.write({
      id,
      method: 'GET',
      route: plan.route,
      url,
      status: 200,
      durationMs,
      sub: user.sub,
    });
    return true;
  }
}
