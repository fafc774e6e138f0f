import { Injectable, NotFoundException } from '@nestjs/common';
import { badParameter } from '../common/field-errors';
import {
  INTERVAL_MS,
  Interval,
  TimeRange,
  WINDOWS,
  bucketStarts,
  ceilTo,
  floorTo,
  parseTimeParam,
  resolveWindow,
} from '../common/time-window';
import { SearchQueryDto, SeriesQueryDto, TopQueryDto } from './dto/query.dto';
import { codePointLength, normalizeTrendKey } from './normalize';
import { weightedSentiment } from './rollup-source';
import { SearchRow, TrendTotals, TrendsRepository } from './trends.repository';

export const MAX_SERIES_POINTS = 10_000;
const DEFAULT_SERIES_POINTS: Record<Interval, number> = { minute: 60, hour: 24, day: 30 };

export interface TopItem {
  rank: number;
  trendKey: string;
  displayName: string;
  mentions: number;
  engagement: number;
  sentiment: number | null;
  previousMentions: number;
  growth: number | null;
}

export interface SeriesPoint {
  bucket: string;
  mentions: number;
  engagement: number;
  sentiment: number | null;
  samples: number;
}

export const isoRange = (range: TimeRange) => ({
  from: range.from.toISOString(),
  to: range.to.toISOString(),
});

/** growth = (current − previous) / previous; null when there is no previous activity. */
export const growth = (current: number, previous: number): number | null =>
  previous > 0 ? (current - previous) / previous : null;

@Injectable()
export class TrendsService {
  constructor(private readonly repository: TrendsRepository) {}

  async top(query: TopQueryDto, now = new Date()) {
    const { current, previous, raw } = resolveWindow(
      WINDOWS[query.window],
      parseTimeParam(query.at, 'at', now),
      now,
    );
    const scope = { platform: query.platform, region: query.region };
    const { leaders, before, names } = await this.repository.consistentRead(async (db) => {
      const leaders = await this.repository.top(current, scope, query.limit, raw, db);
      const keys = leaders.map((t) => t.trendKey);
      const before = keys.length
        ? await this.repository.totalsForKeys(previous, { ...scope, keys }, raw, db)
        : new Map<string, TrendTotals>();
      return { leaders, before, names: await this.repository.displayNames(keys, db) };
    });
    const items: TopItem[] = leaders.map((t, i) => {
      const previousMentions = before.get(t.trendKey)?.mentions ?? 0;
      return {
        rank: i + 1,
        trendKey: t.trendKey,
        displayName: names.get(t.trendKey) ?? t.trendKey,
        mentions: t.mentions,
        engagement: t.engagement,
        sentiment: weightedSentiment(t.sentimentWeightedSum, t.sentimentMentions),
        previousMentions,
        growth: growth(t.mentions, previousMentions),
      };
    });
    return { window: isoRange(current), items };
  }

  async series(rawKey: string, query: SeriesQueryDto, now = new Date()) {
    const trendKey = normalizeTrendKey(rawKey);
    const length = codePointLength(trendKey);
    if (length < 1 || length > 200) throw badParameter('trendKey', 'must be 1 to 200 characters');
    const interval = query.interval;
    const step = INTERVAL_MS[interval];
    const { from, to } = resolveSeriesRange(query, now);
    const range = { from, to };
    const [displayName, rows] = await Promise.all([
      this.repository.displayNameOf(trendKey),
      this.repository.series(trendKey, range, interval, {
        platform: query.platform,
        region: query.region,
      }),
    ]);
    // Zeros only for a trend the service knows; an unknown key is most likely a typo.
    if (displayName === null) {
      throw new NotFoundException(
        `trend "${trendKey}" not found: it was never ingested (or all its data is past retention)`,
      );
    }
    const byBucket = new Map(rows.map((r) => [r.bucket.getTime(), r]));
    const filled: SeriesPoint[] = bucketStarts(range, step).map((bucket) => {
      const row = byBucket.get(bucket.getTime());
      return {
        bucket: bucket.toISOString(),
        mentions: row?.mentions ?? 0,
        engagement: row?.engagement ?? 0,
        sentiment: row ? weightedSentiment(row.sentimentWeightedSum, row.sentimentMentions) : null,
        samples: row?.samples ?? 0,
      };
    });
    return { trendKey, displayName, interval, ...isoRange(range), points: filled };
  }

  async search(query: SearchQueryDto, now = new Date()) {
    const prefix = normalizeTrendKey(query.q);
    if (prefix.length === 0) throw badParameter('q', 'must contain a non-blank character');
    const window = resolveWindow(WINDOWS['24h'], undefined, now).current;
    const rows = await this.repository.search(prefix, window, query.limit);
    return {
      items: rows.map((r: SearchRow) => ({ ...r, lastSeen: r.lastSeen.toISOString() })),
    };
  }
}

/**
 * The range a series covers: `from` floored and `to` rounded up to the interval (default: the
 * last DEFAULT_SERIES_POINTS buckets up to now). `from` must be before `to` as given, and the
 * range may hold at most MAX_SERIES_POINTS buckets. The cache resolves the same range.
 */
export function resolveSeriesRange(query: SeriesQueryDto, now: Date): TimeRange {
  const step = INTERVAL_MS[query.interval];
  const explicitTo = parseTimeParam(query.to, 'to', now);
  const explicitFrom = parseTimeParam(query.from, 'from', now);
  if (explicitFrom && explicitTo && explicitFrom >= explicitTo) {
    throw badParameter('from', 'from must be before to');
  }
  const to = ceilTo(explicitTo ?? now, step);
  const from = explicitFrom
    ? floorTo(explicitFrom, step)
    : new Date(to.getTime() - DEFAULT_SERIES_POINTS[query.interval] * step);
  if (from >= to) throw badParameter('from', 'from must be before to');
  const points = (to.getTime() - from.getTime()) / step;
  if (points > MAX_SERIES_POINTS) {
    throw badParameter(
      'from',
      `range gives ${points} ${query.interval} points, more than ${MAX_SERIES_POINTS}; narrow from/to or use a coarser interval`,
    );
  }
  return { from, to };
}
