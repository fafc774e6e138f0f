import { badParameter } from '../common/field-errors';
import {
  DAY,
  HOUR,
  TimeRange,
  WINDOWS,
  ceilTo,
  floorTo,
  parseTimeParam,
  resolveWindow,
  rollupSegments,
} from '../common/time-window';

/** Limits every analytics request is checked against before any SQL runs. */
export interface AnalyticsLimits {
  maxRangeDays: number;
  maxBuckets: number;
}

/** One piece of a range: hour-aligned pieces read rollups, ragged minutes read raw rows. */
export interface RangePart {
  range: TimeRange;
  raw: boolean;
}

/**
 * Splits [from, to) so that every whole hour is read from rollups and only the ragged minutes
 * at either end (under an hour each) are read from raw observations. The answer is exact for
 * the range as given — no rounding.
 */
export function splitRange(range: TimeRange): RangePart[] {
  const { from, to } = range;
  if (to <= from) return [];
  const firstHour = ceilTo(from, HOUR);
  const lastHour = floorTo(to, HOUR);
  if (firstHour >= lastHour) return [{ range, raw: true }];
  const parts: RangePart[] = [];
  if (from < firstHour) parts.push({ range: { from, to: firstHour }, raw: true });
  parts.push({ range: { from: firstHour, to: lastHour }, raw: false });
  if (lastHour < to) parts.push({ range: { from: lastHour, to }, raw: true });
  return parts;
}

/**
 * Time buckets a range makes the database read: daily + hourly rollup buckets, and one per
 * ragged (raw) piece. The cost measure behind ANALYTICS_MAX_BUCKETS.
 */
export function bucketsRead(range: TimeRange): number {
  let buckets = 0;
  for (const part of splitRange(range)) {
    if (part.raw) {
      buckets += 1;
      continue;
    }
    for (const segment of rollupSegments(part.range)) {
      const step = segment.grain === 'day' ? DAY : HOUR;
      buckets += (segment.to.getTime() - segment.from.getTime()) / step;
    }
  }
  return buckets;
}

/** The period of the same length just before `range`. */
export function previousPeriod(range: TimeRange): TimeRange {
  const length = range.to.getTime() - range.from.getTime();
  return { from: new Date(range.from.getTime() - length), to: range.from };
}

/**
 * from/to of overview and platforms: `to` defaults to the end of the current hour, `from` to
 * 24 hours before `to`. Both are used as given (no rounding). Checks order and the range cap.
 */
export function resolveRange(
  query: { from?: string; to?: string },
  now: Date,
  limits: AnalyticsLimits,
): TimeRange {
  const to = parseTimeParam(query.to, 'to', now) ?? new Date(floorTo(now, HOUR).getTime() + HOUR);
  const from = parseTimeParam(query.from, 'from', now) ?? new Date(to.getTime() - DAY);
  if (from >= to) throw badParameter('from', 'from must be before to');
  if (to.getTime() - from.getTime() > limits.maxRangeDays * DAY) {
    throw badParameter('from', `from..to must not span more than ${limits.maxRangeDays} days`);
  }
  return { from, to };
}

/** Rejects requests whose ranges together read more than the bucket cap. */
export function checkBuckets(ranges: TimeRange[], limits: AnalyticsLimits, field: string): void {
  const total = ranges.reduce((sum, r) => sum + bucketsRead(r), 0);
  if (total > limits.maxBuckets) {
    throw badParameter(
      field,
      `${field} gives a request reading ${total} time buckets, more than ${limits.maxBuckets}; narrow the range`,
    );
  }
}

/** Current and previous window of a movers request (same rules as trends/top). */
export function moversWindows(query: { window: string; at?: string }, now: Date) {
  return resolveWindow(WINDOWS[query.window], parseTimeParam(query.at, 'at', now), now);
}
