import { TimeRange, WINDOWS, parseTimeParam, resolveWindow } from '../common/time-window';
import { resolveSeriesRange } from './trends.service';
import type { SearchQueryDto, SeriesQueryDto, TopQueryDto } from './dto/query.dto';

/**
 * Data ranges the trend queries read, resolved exactly as TrendsService resolves them: what the
 * cache's `@Cacheable({ ranges })` contract asks of the module owning a route.
 */

/** top: the window and the previous window (growth). */
export function topRanges(
  query: TopQueryDto,
  _params: Record<string, string>,
  now: Date,
): TimeRange[] {
  const { current, previous } = resolveWindow(
    WINDOWS[query.window],
    parseTimeParam(query.at, 'at', now),
    now,
  );
  return [{ from: previous.from, to: current.to }];
}

/** series: [from, to) rounded to the interval, exactly as TrendsService resolves it. */
export function seriesRanges(
  query: SeriesQueryDto,
  _params: Record<string, string>,
  now: Date,
): TimeRange[] {
  return [resolveSeriesRange(query, now)];
}

/**
 * search: 24h mentions over the current 24h window, plus last-seen times from the catalogue,
 * which any ingest (of any day) can change — so it is used with `allData`.
 */
export function searchRanges(
  _query: SearchQueryDto,
  _params: Record<string, string>,
  now: Date,
): TimeRange[] {
  return [resolveWindow(WINDOWS['24h'], undefined, now).current];
}
