import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { elapsedMs } from './http-server';
import type { AuthUser } from '../auth/roles';

/** Probes and scrapes stay out of the request log, matched on the route template (not the URL). */
const UNLOGGED_ROUTE = /^\/(health|metrics|monitoring\/(health|metrics))(\/|$)/;

/** Query parameters that carry credentials (a token, the stream's ticket). */
const SECRET_PARAM = /([?&](?:access_token|ticket|token)=)[^&#]*/gi;

/** Client errors (4xx, 429) logged at info per second; the rest go to debug, with a count. */
export const CLIENT_ERRORS_PER_SECOND = 10;

const MAX_URL = 256;

/** The URL with credential parameters replaced, cut to a bounded length. */
export function redactUrl(url: string): string {
  const redacted = url.replace(SECRET_PARAM, '$1[REDACTED]');
  return redacted.length > MAX_URL ? `${redacted.slice(0, MAX_URL)}…` : redacted;
}

type LoggedRequest = FastifyRequest & { user?: AuthUser };
type Logger = PinoLogger['logger'];

/** What one request-log line is made of, whichever layer answered. */
export interface RequestLogEntry {
  id: string;
  method: string;
  /** The route template; undefined when no route matched (404). */
  route: string | undefined;
  url: string;
  status: number;
  durationMs: number;
  sub?: string;
  /** Read only for server errors. */
  remoteAddress?: () => string;
  userAgent?: string;
}

const same = (value: unknown): unknown => value;

/**
 * One line per request, written when the response is done: method, route template, status,
 * duration, request id and token subject — about 250 bytes, never headers. A Fastify
 * onResponse hook covers answers from Nest and router 404s; the cache fast path, which
 * answers before Fastify, writes its own through `write`.
 * Server errors (5xx) are logged at error with the context to chase them (URL with credentials
 * redacted, client address, user agent). Client errors are sampled: CLIENT_ERRORS_PER_SECOND
 * lines per second at info, the rest at debug plus one line saying how many were left out, so
 * a burst of 401s or 429s cannot flood the log.
 */
@Injectable()
export class RequestLog {
  private second = 0;
  private clientErrors = 0;
  private suppressed = 0;

  private root?: Logger;
  private child?: Logger;

  register(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (request: LoggedRequest, reply, done) => {
      this.write({
        id: request.id,
        method: request.method,
        route: request.routeOptions.url,
        url: request.url,
        status: reply.statusCode,
        durationMs: elapsedMs(request.raw, reply.elapsedTime),
        sub: request.user?.sub,
        remoteAddress: () => request.ip,
        userAgent: request.headers['user-agent'],
      });
      done();
    });
  }

  write(entry: RequestLogEntry): void {
    const logger = this.logger();
    const { route, status } = entry;
    if (!logger || (route !== undefined && UNLOGGED_ROUTE.test(route))) return;
    if (this.suppressed > 0) this.nextSecond(logger);
    const line: Record<string, unknown> = {
      req: {
        id: entry.id,
        method: entry.method,
        // Unmatched requests (404) have no template: the URL, redacted and bounded.
        route: route ?? redactUrl(entry.url),
      },
      res: { statusCode: status },
      responseTime: Math.round(entry.durationMs * 10) / 10,
    };
    const sub = entry.sub;
    if (sub) line.sub = sub.length > 64 ? `${sub.slice(0, 64)}…` : sub;

    if (status >= 500) {
      line.url = redactUrl(entry.url);
      if (entry.remoteAddress) line.remoteAddress = entry.remoteAddress();
      if (entry.userAgent) line.userAgent = entry.userAgent.slice(0, 200);
      logger.error(line, 'request failed');
      return;
    }
    if (status >= 400 && !this.admitClientError(logger)) {
      logger.debug(line, 'request completed');
      return;
    }
    logger.info(line, 'request completed');
  }

  /**
   * The application's root pino logger, with `req`/`res` written as given: the pino-http
   * serializers of the root expect a Node request and would drop the route template.
   */
  private logger(): Logger | undefined {
    const root = PinoLogger.root as Logger | undefined;
    if (root !== this.root) {
      this.root = root;
      // No redaction: these lines never carry headers or bodies.
      this.child = root?.child({}, { serializers: { req: same, res: same }, redact: [] });
    }
    return this.child;
  }

  /** Whether this client error still fits the second's budget. */
  private admitClientError(logger: Logger): boolean {
    this.nextSecond(logger);
    if (this.clientErrors < CLIENT_ERRORS_PER_SECOND) {
      this.clientErrors++;
      return true;
    }
    this.suppressed++;
    return false;
  }

  /** On a new second: reset the budget, saying how many lines the last one left out. */
  private nextSecond(logger: Logger): void {
    const second = Math.floor(Date.now() / 1000);
    if (second === this.second) return;
    if (this.suppressed > 0) {
      logger.info(
        { suppressedClientErrors: this.suppressed },
        'client-error responses logged at debug only (over the per-second budget)',
      );
    }
    this.second = second;
    this.clientErrors = 0;
    this.suppressed = 0;
  }
}
