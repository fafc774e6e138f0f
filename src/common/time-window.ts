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

/** Parses an ISO 8601 query parameter (shape already checked by the DTO); 400 naming it if invalid. */
export function parseTimeParam(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw badParameter(field, `${field} must be an ISO 8601 timestamp`);
  return date;
}
