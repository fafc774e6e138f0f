/**
 * Window and bucket arithmetic (SPEC §5). All times are UTC; windows are half-open [from, to).
 */
import { badParameter } from './field-errors';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const WINDOWS: Readonly<Record<string, number>> = {
  '15m': 15 * MINUTE,
  '1h': HOUR,
  '6h': 6 * HOUR,
  '24h': 24 * HOUR,
  '7d': 7 * DAY,
  '30d': 30 * DAY,
  '90d': 90 * DAY,
};
export const WINDOW_NAMES = Object.keys(WINDOWS);

export type Interval = 'minute' | 'hour' | 'day';
export const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  minute: MINUTE,
  hour: HOUR,
  day: DAY,
};

export const floorTo = (at: Date, step: number): Date =>
  new Date(Math.floor(at.getTime() / step) * step);
export const ceilTo = (at: Date, step: number): Date =>
  new Date(Math.ceil(at.getTime() / step) * step);

export interface TimeRange {
  from: Date;
  to: Date;
}

export interface ResolvedWindow {
  current: TimeRange;
  previous: TimeRange;
  /** Windows under an hour read raw observations; longer ones read rollups. */
  raw: boolean;
}

/**
 * Resolves a named window ending at `at`. Windows of an hour or more end on a whole hour:
 * `at` is rounded up, and by default the window ends at the end of the current hour (so the
 * hour in progress is included). Shorter windows end at `at` (default now).
 */
export function resolveWindow(windowMs: number, at: Date | undefined, now: Date): ResolvedWindow {
  const raw = windowMs < HOUR;
  const to = raw
    ? (at ?? now)
    : at
      ? ceilTo(at, HOUR)
      : new Date(floorTo(now, HOUR).getTime() + HOUR);
  const from = new Date(to.getTime() - windowMs);
  return {
    current: { from, to },
    previous: { from: new Date(from.getTime() - windowMs), to: from },
    raw,
  };
}

export interface RollupSegment extends TimeRange {
  grain: 'hour' | 'day';
}

/**
 * Splits an hour-aligned range into the fewest rollup reads: whole UTC days from the daily
 * rollup, the ragged hours at either end from the hourly rollup.
 */
export function rollupSegments(range: TimeRange): RollupSegment[] {
  const { from, to } = range;
  if (from.getTime() % HOUR !== 0 || to.getTime() % HOUR !== 0) {
    throw new Error('rollupSegments needs an hour-aligned range');
  }
  if (to <= from) return [];
  const firstDay = ceilTo(from, DAY);
  const lastDay = floorTo(to, DAY);
  if (firstDay >= lastDay) return [{ grain: 'hour', from, to }];
  const segments: RollupSegment[] = [];
  if (from < firstDay) segments.push({ grain: 'hour', from, to: firstDay });
  segments.push({ grain: 'day', from: firstDay, to: lastDay });
  if (lastDay < to) segments.push({ grain: 'hour', from: lastDay, to });
  return segments;
}

/** The bucket starts of [from, to) at `step`; from must be aligned. */
export function bucketStarts(range: TimeRange, step: number): Date[] {
  const starts: Date[] = [];
  for (let t = range.from.getTime(); t < range.to.getTime(); t += step) starts.push(new Date(t));
  return starts;
}

/** UTC calendar days (YYYY-MM-DD) that [from, to) touches. */
export function daysCovered(range: TimeRange): string[] {
  const days: string[] = [];
  for (let t = floorTo(range.from, DAY).getTime(); t < range.to.getTime(); t += DAY) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** How far ahead of now a query time may lie; later times are refused as mistakes. */
export const MAX_QUERY_TIME_AHEAD_MS = 366 * DAY;

// YYYY[-MM[-DD[Thh:mm[:ss[.fff…]][zone]]]]: the extended ISO 8601 forms the DTOs accept.
const ISO_QUERY_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/i;

/**
 * Parses an ISO 8601 query time (`at`, `from`, `to`); 400 naming the parameter if invalid.
 * A time without an offset means UTC, like a date-only value: never the server's time zone
 * (which `new Date()` would use). Years outside 0001–9999 and times more than a year ahead of
 * `now` are refused.
 */
export function parseTimeParam(
  value: string | undefined,
  field: string,
  now: Date = new Date(),
): Date | undefined {
  if (value === undefined) return undefined;
  const invalid = () =>
    badParameter(field, `${field} must be an ISO 8601 timestamp, e.g. 2026-11-30T12:00:00Z`);
  const m = ISO_QUERY_TIME.exec(value);
  if (!m) throw invalid();
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  if (year < 1) throw badParameter(field, `${field} must be in the years 0001 to 9999`);
  const endOfDay = hour === 24 && minute === 0 && second === 0 && /^0*$/.test(frac);
  if ((hour > 23 && !endOfDay) || minute > 59 || second > 59) throw invalid();
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // (Date.UTC would map years 0-99 to 19xx)
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) throw invalid();
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4) || '0');
    if (oh > 23 || om > 59) throw invalid();
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms =
    date.getTime() +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    Number(frac.slice(0, 3).padEnd(3, '0'));
  if (ms - now.getTime() > MAX_QUERY_TIME_AHEAD_MS) {
    throw badParameter(field, `${field} must not be more than a year ahead`);
  }
  return new Date(ms);
}
