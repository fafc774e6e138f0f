import type { ThrottlerStorage } from '@nestjs/throttler';

/** What a storage answers per hit, named through the package's public interface only. */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;
import { createHash } from 'node:crypto';
import type { AuthUser } from '../auth/roles';

/** The one throttler of the service (see throttle.module.ts). */
export const THROTTLER_NAME = 'default';

const PRECOUNTED = Symbol('throttle.precounted');

type Carrier = { [PRECOUNTED]?: ThrottlerStorageRecord };

/**
 * The Redis counter key of a tracker (shared by the storage and the cache fast path). Hash tag
 * `{v}` like the cache's version tokens: the fast path's one script reads both, and a script's
 * keys must live in one hash slot of a cluster.
 */
export const throttleCounterKey = (prefix: string, tracker: string): string =>
  `${prefix}{v}:throttle:${THROTTLER_NAME}:${tracker}`;

/** Hashed subjects, kept since a subject makes many requests (bounded: cleared when full). */
const SUBJECT_TRACKERS_MAX = 10_000;
const subjectTrackers = new Map<string, string>();

/** Per token subject when authenticated, per client IP otherwise. */
export function trackerOf(request: { user?: AuthUser; ip: string }): string {
  const sub = request.user?.sub;
  return sub ? subjectTracker(sub) : `ip:${request.ip}`;
}

/** The tracker of a token subject (hashed: a subject may be long or hold any character). */
export function subjectTracker(sub: string): string {
  let tracker = subjectTrackers.get(sub);
  if (tracker === undefined) {
    tracker = `sub:${createHash('sha1').update(sub).digest('base64url')}`;
    if (subjectTrackers.size >= SUBJECT_TRACKERS_MAX) subjectTrackers.clear();
    subjectTrackers.set(sub, tracker);
  }
  return tracker;
}

/**
 * The cache fast path counts a request against the limit in its one Redis round trip; when it
 * then hands the request on (blocked, or not a hit), the guard must use that count instead of
 * counting the request twice. The count rides on the node:http request (Fastify's `raw`).
 */
export function markPrecounted(request: object, record: ThrottlerStorageRecord): void {
  (request as Carrier)[PRECOUNTED] = record;
}

/** The fast path's count for this request, if any (read once). */
export function takePrecounted(request: object): ThrottlerStorageRecord | undefined {
  const carrier = request as Carrier;
  const record = carrier[PRECOUNTED];
  if (record) delete carrier[PRECOUNTED];
  return record;
}
