import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * Answers a request itself, or calls `next` (at once or later, at most once) to hand it to
 * Fastify unchanged.
 */
export type EarlyHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

type FastifyHandler = (req: IncomingMessage, res: ServerResponse) => void;

const ARRIVED_AT = Symbol('http.arrivedAt');
type Stamped = IncomingMessage & { [ARRIVED_AT]?: number };

/**
 * Milliseconds since the request reached the server. Fastify's own clock (`reply.elapsedTime`)
 * starts only when Fastify gets the request, after the early handler; metrics and the request
 * log use this one, so time spent there (a Redis call, a timeout) is counted.
 */
export function elapsedMs(req: IncomingMessage, fallbackMs: number): number {
  const arrivedAt = (req as Stamped)[ARRIVED_AT];
  return arrivedAt === undefined ? fallbackMs : performance.now() - arrivedAt;
}

/**
 * The node:http server under Fastify (its `serverFactory`), with one seam: an early handler
 * that sees each request before Fastify builds its request and reply objects, runs its hooks
 * or routes. The cache fast path answers hits there (src/cache/cache-fast-path.ts). Until a
 * handler is set, and for whatever it hands on, Fastify serves as usual. The server gets the
 * timeouts Fastify would give its own.
 */
export class HttpFrontDoor {
  private early?: EarlyHandler;

  /** Given Fastify's resolved options; applies the settings it gives a server of its own. */
  readonly serverFactory = (fastify: FastifyHandler, options: Record<string, unknown>): Server => {
    const server = createServer((req, res) => {
      (req as Stamped)[ARRIVED_AT] = performance.now();
      const early = this.early;
      if (!early) return fastify(req, res);
      let handed = false;
      const next = () => {
        if (handed) return;
        handed = true;
        fastify(req, res);
      };
      try {
        early(req, res, next);
      } catch {
        if (!res.headersSent) next(); // a bug in the early handler costs its shortcut only
      }
    });
    server.keepAliveTimeout = Number(options.keepAliveTimeout);
    server.requestTimeout = Number(options.requestTimeout);
    server.setTimeout(Number(options.connectionTimeout));
    const maxRequests = Number(options.maxRequestsPerSocket);
    if (maxRequests > 0) server.maxRequestsPerSocket = maxRequests;
    return server;
  };

  useEarlyHandler(handler: EarlyHandler): void {
    this.early = handler;
  }
}
