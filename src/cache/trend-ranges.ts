import {
  INTERVAL_MS,
  TimeRange,
  WINDOWS,
  ceilTo,
  floorTo,
  resolveWindow,
} from '../common/time-window';
import type { SearchQueryDto, SeriesQueryDto, TopQueryDto } from '../trends/dto/query.dto';

/** Data ranges the trend queries read, resolved exactly as TrendsService resolves them. */

const time = (value: string | undefined): Date | undefined => {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error('bad time');
  return date;
};

/** top: the window and the previous window (growth). */
export function topRanges(
  query: TopQueryDto,
  _params: Record<string, string>,
  now: Date,
): TimeRange[] {
  const { current, previous } = resolveWindow(WINDOWS[query.window], time(query.at), now);
  return [{ from: previous.from, to: current.to }];
}

/** Default series length when `from` is omitted; mirrors TrendsService. */
const DEFAULT_SERIES_POINTS = { minute: 60, hour: 24, day: 30 } as const;

/** series: [from, to) rounded to the interval. */
export function seriesRanges(
  query: SeriesQueryDto,
  _params: Record<string, string>,
  now: Date,
): TimeRange[] {
  const step = INTERVAL_MS[query.interval];
  const to = ceilTo(time(query.to) ?? now, step);
  const explicitFrom = time(query.from);
  const from = explicitFrom
    ? floorTo(explicitFrom, step)
    : new Date(to.getTime() - DEFAULT_SERIES_POINTS[query.interval] * step);
  return [{ from, to }];
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
