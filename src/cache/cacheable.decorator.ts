import { SetMetadata } from '@nestjs/common';
import { TimeRange } from '../common/time-window';

export const CACHEABLE_KEY = 'cache:cacheable';
export const NO_CACHE_KEY = 'cache:skip';

/**
 * The ranges of data an answer depends on, from the validated query DTO (defaults applied),
 * the route params and the time the request is served. Throw on input the service would reject.
 */
export type RangeResolver<Q> = (query: Q, params: Record<string, string>, now: Date) => TimeRange[];

export interface CacheableOptions<Q = object> {
  /** Omitted: the answer depends on all data (any ingest invalidates it). */
  ranges?: RangeResolver<Q>;
  /**
   * The answer also depends on data outside `ranges` (e.g. a catalogue of every trend ever
   * seen): key on the global ingest version instead of day versions; `ranges` still pins the
   * resolved time window into the key.
   */
  allData?: boolean;
}

/** Declares what a cached GET depends on (see docs/cache.md). Unmarked GETs under the cached prefixes are cached too, conservatively. */
export const Cacheable = <Q extends object>(options: CacheableOptions<Q>) =>
  SetMetadata(CACHEABLE_KEY, options);

/** Opts a GET under a cached prefix out of the cache. */
export const NoCache = () => SetMetadata(NO_CACHE_KEY, true);
