import type { FastifyInstance } from 'fastify';

/** At least this much more of an oversize body is read and discarded before the 413 goes out. */
const MIN_DISCARD_BYTES = 32 * 1024 * 1024;
/** An oversize upload slower than this gets its 413 anyway, and the connection closes. */
const DISCARD_TIME_LIMIT_MS = 15_000;

/**
 * A 413 the client can read. Fastify answers an oversize body at once and closes the
 * connection; a client still writing the body (Node's fetch, curl without `Expect`) then sees
 * EPIPE or ECONNRESET instead of the answer, takes it for a network error and resends the same
 * batch forever. So before a 413 is sent, the rest of the body is read and thrown away, up to
 * max(2 × the body limit, 32 MiB) beyond the limit and for 15 s; then the answer goes out and the
 * connection closes (Fastify sets `Connection: close`). Beyond those bounds the client may
 * still see the reset: that is the price of not reading unbounded uploads.
 */
export function installOversizeBodyDrain(fastify: FastifyInstance, bodyLimit: number): void {
  const maxBytes = Math.max(2 * bodyLimit, MIN_DISCARD_BYTES);
  fastify.addHook('onSend', async (request, reply) => {
    if (reply.statusCode !== 413) return;
    const raw = request.raw;
    if (raw.complete || raw.destroyed) return;
    await new Promise<void>((resolve) => {
      let received = 0;
      const finish = () => {
        clearTimeout(timer);
        raw.off('data', onData);
        raw.off('end', finish);
        raw.off('error', finish);
        raw.off('close', finish);
        resolve();
      };
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) finish();
      };
      const timer = setTimeout(finish, DISCARD_TIME_LIMIT_MS);
      raw.on('data', onData);
      raw.once('end', finish);
      raw.once('error', finish);
      raw.once('close', finish);
      raw.resume();
    });
  });
}
