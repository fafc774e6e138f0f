import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';

/**
 * Answers a request itself, or calls `next` (at once or later, at most once) to hand it to
 * Fastify unchanged.
 */
export type EarlyHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

type FastifyHandler = (req: IncomingMessage, res: ServerResponse) => void;

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
      const early = this.early;
      if (!early) return fastify(req, res);
      early(req, res, () => fastify(req, res));
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
