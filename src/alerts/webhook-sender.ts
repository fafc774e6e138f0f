import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { TargetRefused, guardedLookup, isPrivateAddress, parseTargetUrl } from './target-guard';
import { signWebhook } from './webhook-signature';

export const SEND_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface SendResult {
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** Retry-After of the answer in ms, when it had one. */
  retryAfterMs?: number;
}

/** Retry-After as delay-seconds or an HTTP date; undefined when absent or malformed. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * One POST of a notification. Webhooks carry the Standard Webhooks headers, signed over
 * `{id}.{timestamp}.{body}`; the timestamp is that of this attempt. Redirects are not
 * followed (a 3xx is a failed attempt), the whole exchange is cut off after 10 s, and the
 * connection goes only to an address that passed the SSRF check (also on every retry, so a
 * name re-pointed at a private address after the channel was created is refused).
 */
export async function sendNotification(
  target: { url: string; secret: string | null; webhookId: string; body: string },
  allowPrivate: boolean,
): Promise<SendResult> {
  const started = performance.now();
  const done = (r: Omit<SendResult, 'latencyMs'>): SendResult => ({
    ...r,
    latencyMs: performance.now() - started,
  });
  let url: URL;
  try {
    url = parseTargetUrl(target.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivate && isIP(host) && isPrivateAddress(host))
      throw new TargetRefused(`${host} is a private address`);
  } catch (error) {
    return done({ statusCode: null, error: `refused: ${(error as Error).message}` });
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(target.body),
    'user-agent': 'trend-service-alerts',
    'webhook-id': target.webhookId,
    'webhook-timestamp': String(timestamp),
  };
  if (target.secret)
    headers['webhook-signature'] = signWebhook(
      target.secret,
      target.webhookId,
      timestamp,
      target.body,
    );

  return new Promise<SendResult>((resolve) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: 'POST', headers, lookup: guardedLookup(allowPrivate) as never, agent: false },
      (response) => {
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) response.destroy();
        });
        const finish = () => {
          clearTimeout(timer);
          const status = response.statusCode ?? null;
          const ok = status !== null && status >= 200 && status < 300;
          const retryAfter = response.headers['retry-after'];
          resolve(
            done({
              statusCode: status,
              error: ok ? null : `HTTP ${status}`,
              retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
            }),
          );
        };
        response.on('end', finish);
        response.on('close', finish);
        response.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      request.destroy(new Error(`timed out after ${SEND_TIMEOUT_MS / 1000} s`));
    }, SEND_TIMEOUT_MS);
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const refused = error instanceof TargetRefused || error.code === 'ETARGETREFUSED';
      resolve(done({ statusCode: null, error: `${refused ? 'refused: ' : ''}${error.message}` }));
    });
    request.end(target.body);
  });
}
