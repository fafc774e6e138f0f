import { CacheDirectives } from './cache.service';

/**
 * Request `Cache-Control` directives the cache honours: `no-cache` (also `no-store` and
 * `max-age=0`) forces a fresh answer; `max-stale[=s]` accepts a cached answer up to s seconds
 * old even if its data changed since (no value: up to the entry's TTL).
 */
export function parseCacheControl(
  header: string | string[] | undefined,
  ttlSeconds: number,
): CacheDirectives {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const directives: CacheDirectives = { noCache: false };
  for (const part of text.split(',')) {
    const [rawName, rawValue] = part.split('=', 2);
    const name = rawName.trim().toLowerCase();
    const value = rawValue?.trim().replace(/^"|"$/g, '');
    if (name === 'no-cache' || name === 'no-store' || (name === 'max-age' && value === '0'))
      directives.noCache = true;
    if (name === 'max-stale') {
      if (value === undefined || value === '') directives.maxStale = ttlSeconds;
      else if (/^\d+$/.test(value)) directives.maxStale = Number(value);
    }
  }
  return directives;
}
