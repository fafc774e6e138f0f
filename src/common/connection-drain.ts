import { Logger } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { LifecycleService } from './lifecycle.service';

/**
 * How long the listener's close may wait for connections that still carry a response (a slow
 * query, a stream that ignored the stopping signal) before they are cut. Below the 30 s
 * forced exit in main.ts, so a stuck connection costs its own response, never the clean exit.
 */
export const CONNECTION_DRAIN_LIMIT_MS = 10_000;

/**
 * Makes `app.close()` independent of clients' keep-alive connections.
 *
 * `server.close()` (and Fastify's default `forceCloseConnections: 'idle'`) closes only the
 * connections that are idle at that instant. A keep-alive connection whose request was still
 * in flight becomes idle a moment later and then stays open until the client hangs up or the
 * keep-alive timeout (72 s in Fastify) ends it, and the close waits for it. Under steady
 * ingest load that was nearly every shutdown. So, once shutdown has begun:
 * - every answer carries `Connection: close`, and Node closes the socket after sending it;
 * - once the listener is closing, a connection whose response ends (including hijacked and
 *   streaming ones that ended on `LifecycleService.stopping`) is closed as soon as it is idle;
 * - after CONNECTION_DRAIN_LIMIT_MS whatever is left is cut.
 */
export function installConnectionDrain(
  app: NestFastifyApplication,
  lifecycle: LifecycleService,
): void {
  const fastify = app.getHttpAdapter().getInstance();
  const server = fastify.server;
  const logger = new Logger('Shutdown');
  let closing = false;

  fastify.addHook('onSend', async (request, reply) => {
    if (lifecycle.phase === 'stopping' && request.raw.httpVersionMajor === 1) {
      void reply.header('Connection', 'close');
    }
  });

  // On the raw server, so it also sees responses Fastify does not send (hijacked, streams).
  server.on('request', (_request, response) => {
    response.once('close', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });

  fastify.addHook('preClose', (done) => {
    closing = true;
    const limit = setTimeout(() => {
      logger.warn(
        `connections still open ${CONNECTION_DRAIN_LIMIT_MS} ms into shutdown: closing them`,
      );
      server.closeAllConnections();
    }, CONNECTION_DRAIN_LIMIT_MS);
    limit.unref();
    server.once('close', () => clearTimeout(limit));
    // server.close() runs next and closes what is idle then; this catches a response that
    // finished in between.
    setImmediate(() => server.closeIdleConnections());
    done();
  });
}
