import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id: the client's X-Request-Id when it looks sane, else a new UUID. Remembered on
 * the raw request so Fastify, the logger and error bodies agree on it.
 */
export function requestIdFrom(req: IncomingMessage & { requestId?: string }): string {
  if (req.requestId) return req.requestId;
  const header = req.headers['x-request-id'];
  const candidate = Array.isArray(header) ? header[0] : header;
  req.requestId = candidate && SANE_ID.test(candidate) ? candidate : randomUUID();
  return req.requestId;
}
