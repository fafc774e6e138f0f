import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  NestInterceptor,
  Type,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { Reflector } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, from, lastValueFrom } from 'rxjs';
import { CSV_CONTENT_TYPE, Representation, representationOf } from '../common/csv';
import { TimeRange, daysCovered } from '../common/time-window';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { parseCacheControl } from './cache-control';
import { CacheRequest, CacheService } from './cache.service';
import {
  CACHEABLE_KEY,
  CacheableOptions,
  NO_CACHE_KEY,
  RangeResolver,
} from './cacheable.decorator';

/** Every GET under these route prefixes goes through the cache (SPEC §6). */
export const CACHED_ROUTE_PREFIXES = ['/api/v1/trends', '/api/v1/analytics'];

interface RouteArgument {
  index: number;
  data?: unknown;
}

/**
 * Global interceptor: cache-aside around cacheable GETs. Interceptors run before pipes, so the
 * query is validated here with the ValidationPipe's options to build a normalized key; input the
 * pipe would reject is passed through uncached and answered 400 by the pipe as usual.
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  private readonly queryTypes = new WeakMap<object, Type<object> | null>();

  constructor(
    private readonly reflector: Reflector,
    private readonly cache: CacheService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const route = request.routeOptions?.url;
    if (
      request.method !== 'GET' ||
      !route ||
      !CACHED_ROUTE_PREFIXES.some((p) => route.startsWith(p))
    ) {
      return next.handle();
    }
    if (this.reflector.get<boolean>(NO_CACHE_KEY, context.getHandler())) return next.handle();

    const prepared = this.prepare(context, request, route);
    if (!prepared) return next.handle();
    const directives = parseCacheControl(
      request.headers['cache-control'],
      this.config.redis.ttlSeconds,
    );
    const reply = http.getResponse<FastifyReply>();
    const csv = prepared.representation === 'csv';
    return from(
      this.cache
        .serve(prepared, directives, () => lastValueFrom(next.handle()))
        .then((answer) => {
          void reply.header('X-Cache', answer.status);
          if (answer.age !== undefined) void reply.header('Age', String(answer.age));
          if (typeof answer.body !== 'string') return answer.body;
          if (csv) {
            // The stored text is JSON; a CSV answer is stored as one JSON string.
            const value: unknown = JSON.parse(answer.body);
            if (typeof value === 'string') {
              void reply.header('Content-Type', CSV_CONTENT_TYPE);
              return value;
            }
          }
          void reply.header('Content-Type', 'application/json; charset=utf-8');
          return answer.body;
        }),
    );
  }

  /** Builds the cache request, or null when the input is invalid (the pipe will answer 400). */
  private prepare(
    context: ExecutionContext,
    request: FastifyRequest,
    route: string,
  ): (CacheRequest & { representation: Representation }) | null {
    const options =
      this.reflector.get<CacheableOptions | undefined>(CACHEABLE_KEY, context.getHandler()) ?? {};
    const params = { ...((request.params as Record<string, string> | undefined) ?? {}) };
    const rawQuery = (request.query as Record<string, unknown> | undefined) ?? {};
    const queryType = this.queryType(context);
    let query: object = rawQuery;
    if (queryType) {
      query = plainToInstance(queryType, rawQuery);
      const errors = validateSync(query, { whitelist: true, forbidNonWhitelisted: true });
      if (errors.length) return null;
    }
    // The representation is one more key component (absent for JSON: those keys are unchanged);
    // `format` only selects it, so ?format=csv and Accept: text/csv share one entry.
    const representation = representationOf(request);
    const identity = stableJson({
      params,
      query: { ...query, format: undefined },
      representation: representation === 'csv' ? 'csv' : undefined,
    });
    const resolve = options.ranges as RangeResolver<object> | undefined;
    try {
      if (!resolve) {
        // Unknown dependencies: any ingest invalidates, and the second pins now-relative defaults.
        const second = () => String(Math.floor(Date.now() / 1000));
        const signature = second();
        return {
          route,
          identity,
          representation,
          rangeSignature: signature,
          currentRangeSignature: second,
          scope: { kind: 'all' },
        };
      }
      const ranges = resolve(query, params, new Date());
      const signature = rangeSignature(ranges);
      if (signature === null) return null;
      const days = [...new Set(ranges.flatMap((r) => daysCovered(r)))].sort();
      return {
        route,
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
        scope: options.allData ? { kind: 'all' } : { kind: 'days', days },
      };
    } catch {
      return null;
    }
  }

  /** The DTO class of the handler's whole-query parameter (`@Query() q: Dto`), if any. */
  private queryType(context: ExecutionContext): Type<object> | null {
    const handler = context.getHandler();
    const known = this.queryTypes.get(handler);
    if (known !== undefined) return known;
    const controller = context.getClass();
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ??
      {}) as Record<string, RouteArgument>;
    const types = (Reflect.getMetadata('design:paramtypes', controller.prototype, handler.name) ??
      []) as unknown[];
    let found: Type<object> | null = null;
    for (const [key, arg] of Object.entries(args)) {
      if (Number(key.split(':')[0]) === RouteParamtypes.QUERY && arg.data === undefined) {
        const type = types[arg.index];
        if (typeof type === 'function' && type !== Object) found = type as Type<object>;
      }
    }
    this.queryTypes.set(handler, found);
    return found;
  }
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
