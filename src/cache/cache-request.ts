import { ExecutionContext, Injectable, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { Reflector } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { LRUCache } from 'lru-cache';
import { IS_PUBLIC_KEY, ROLES_KEY, Role } from '../auth/roles';
import {
  CSV_CONTENT_TYPE,
  CSV_EXPORT_KEY,
  Representation,
  requestedRepresentation,
} from '../common/csv';
import { TimeRange, daysCovered } from '../common/time-window';
import { CacheRequest } from './cache.service';
import {
  CACHEABLE_KEY,
  CacheableOptions,
  NO_CACHE_KEY,
  RangeResolver,
} from './cacheable.decorator';

/** Every GET under these route prefixes goes through the cache (SPEC §6). */
export const CACHED_ROUTE_PREFIXES = ['/api/v1/trends', '/api/v1/analytics'];

/** Distinct request URLs whose normalized query is remembered. */
const NORMALIZED_URLS_MAX = 5_000;

/**
 * The representation an answer is cached in (`format` query or `Accept`, src/common/csv.ts):
 * one more component of the exact key, so JSON and CSV answers never mix. The interceptor and
 * the fast path both serve a stored answer with its representation's content type.
 */
export const CONTENT_TYPES: Record<Representation, string> = {
  json: 'application/json; charset=utf-8',
  csv: CSV_CONTENT_TYPE,
};

/** A route without CSV export answers JSON whatever the client accepts. */
export function representationOf(
  plan: RoutePlan,
  request: { headers: Record<string, string | string[] | undefined>; query?: unknown },
): Representation {
  if (!plan.csv) return 'json';
  const format = (request.query as Record<string, unknown> | undefined)?.format;
  return requestedRepresentation(format, request.headers.accept);
}

/** What the cache needs to know about one cacheable route, read once from its metadata. */
export interface RoutePlan {
  route: string;
  options: CacheableOptions;
  queryType: Type<object> | null;
  /** Roles admitted by the route (`@Roles`, default admin); null for a public route. */
  roles: Role[] | null;
  /** No per-route rate-limit settings (`@Throttle`, `@SkipThrottle`): the global limit applies. */
  globalThrottle: boolean;
  /** The route answers CSV on request (`@CsvExport`); otherwise always JSON. */
  csv: boolean;
}

/** A validated query: the key's identity and the DTO instance the range resolver reads. */
export interface NormalizedQuery {
  identity: string;
  query: object;
  params: Record<string, string>;
}

interface RouteArgument {
  index: number;
  data?: unknown;
}

/**
 * Builds cache requests (key material) for cacheable GETs, shared by the interceptor and the
 * fast path so both derive the same keys. Query validation (class-transformer +
 * class-validator, tens of µs) runs once per distinct URL: its result depends on the URL only.
 */
@Injectable()
export class CacheRequestFactory {
  private readonly plansByHandler = new WeakMap<object, RoutePlan | null>();
  private readonly plansByRoute = new Map<string, RoutePlan>();
  private readonly normalized = new LRUCache<string, NormalizedQuery | false>({
    max: NORMALIZED_URLS_MAX,
  });

  private readonly daysBySignature = new LRUCache<string, string[]>({ max: 1_000 });

  constructor(private readonly reflector: Reflector) {}

  /** The plan of the handler, or null when its answers are not cached. */
  planFor(context: ExecutionContext, route: string): RoutePlan | null {
    const handler = context.getHandler();
    const known = this.plansByHandler.get(handler);
    if (known !== undefined) return known;
    let plan: RoutePlan | null = null;
    if (
      CACHED_ROUTE_PREFIXES.some((p) => route.startsWith(p)) &&
      !this.reflector.get<boolean>(NO_CACHE_KEY, handler)
    ) {
      const targets = [handler, context.getClass()];
      const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets);
      plan = {
        route,
        options: this.reflector.get<CacheableOptions | undefined>(CACHEABLE_KEY, handler) ?? {},
        queryType: queryTypeOf(context.getClass(), context.getHandler()),
        roles: isPublic
          ? null
          : (this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? ['admin']),
        csv: this.reflector.get(CSV_EXPORT_KEY, handler) !== undefined,
        globalThrottle: !targets.some((target) =>
          Reflect.getMetadataKeys(target).some(
            (key) => typeof key === 'string' && key.startsWith('THROTTLER:'),
          ),
        ),
      };
      this.plansByRoute.set(route, plan);
    }
    this.plansByHandler.set(handler, plan);
    return plan;
  }

  /** The UTC days of resolved ranges, remembered by their signature (many requests share one). */
  private daysOf(signature: string, ranges: TimeRange[]): string[] {
    let days = this.daysBySignature.get(signature);
    if (!days) {
      days = [...new Set(ranges.flatMap((r) => daysCovered(r)))].sort();
      this.daysBySignature.set(signature, days);
    }
    return days;
  }

  /** The plan of a GET route template once a request through Nest has revealed it. */
  planForRoute(route: string): RoutePlan | undefined {
    return this.plansByRoute.get(route);
  }

  /** The validated query of a URL; null when the ValidationPipe would reject it (answered 400). */
  normalize(
    plan: RoutePlan,
    url: string,
    rawQuery: Record<string, unknown> | undefined,
    rawParams: Record<string, string> | undefined,
  ): NormalizedQuery | null {
    const memo = `${plan.route}\n${url}`;
    const known = this.normalized.get(memo);
    if (known !== undefined) return known || null;
    const params = { ...(rawParams ?? {}) };
    let query: object = rawQuery ?? {};
    let valid = true;
    if (plan.queryType) {
      query = plainToInstance(plan.queryType, query);
      valid = validateSync(query, { whitelist: true, forbidNonWhitelisted: true }).length === 0;
    }
    const result = valid ? { identity: stableJson({ params, query }), query, params } : null;
    this.normalized.set(memo, result ?? false);
    return result;
  }

  /** Key material for one request at `now`; null when the ranges cannot be resolved. */
  build(
    plan: RoutePlan,
    normalized: NormalizedQuery,
    representation: Representation,
    now: Date,
  ): CacheRequest | null {
    const { query, params, identity } = normalized;
    const resolve = plan.options.ranges as RangeResolver<object> | undefined;
    try {
      if (!resolve) {
        // Unknown dependencies: any ingest invalidates, and the second pins now-relative defaults.
        const second = () => String(Math.floor(Date.now() / 1000));
        return {
          route: plan.route,
          identity,
          representation,
          rangeSignature: String(Math.floor(now.getTime() / 1000)),
          currentRangeSignature: second,
          scope: { kind: 'all' },
        };
      }
      const ranges = resolve(query, params, now);
      const signature = rangeSignature(ranges);
      if (signature === null) return null;
      const days = this.daysOf(signature, ranges);
      return {
        route: plan.route,
        identity,
        representation,
        rangeSignature: signature,
        currentRangeSignature: () => {
          try {
            return rangeSignature(resolve(query, params, new Date())) ?? '';
          } catch {
            return '';
          }
        },
        scope: plan.options.allData ? { kind: 'all' } : { kind: 'days', days },
      };
    } catch {
      return null;
    }
  }
}

/**
 * The DTO class of the handler's whole-query parameter (`@Query() q: Dto`), if any. Nest has
 * no public API for a handler's parameter decorators, so this is the one place that reads its
 * internal route-argument metadata (ROUTE_ARGS_METADATA, RouteParamtypes);
 * cache-request.spec.ts fails loudly if an upgrade changes them.
 */
export function queryTypeOf(
  controller: Type<unknown>,
  handler: { name: string },
): Type<object> | null {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {}) as Record<
    string,
    RouteArgument
  >;
  const types = (Reflect.getMetadata('design:paramtypes', controller.prototype, handler.name) ??
    []) as unknown[];
  let found: Type<object> | null = null;
  for (const [key, arg] of Object.entries(args)) {
    if (Number(key.split(':')[0]) === RouteParamtypes.QUERY && arg.data === undefined) {
      const type = types[arg.index];
      if (typeof type === 'function' && type !== Object) found = type as Type<object>;
    }
  }
  return found;
}

/** Ranges as a string; null when a range is not a valid time span. */
function rangeSignature(ranges: TimeRange[]): string | null {
  const parts: string[] = [];
  for (const { from, to } of ranges) {
    const a = from.getTime();
    const b = to.getTime();
    if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
    parts.push(`${a}-${b}`);
  }
  return parts.join(',');
}

/** JSON with object keys sorted and undefined values dropped: parameter order never matters. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}
