import { Inject, Injectable } from '@nestjs/common';
import { TimeRange } from '../common/time-window';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/config';
import { roundFloat, weightedSentiment } from '../trends/rollup-source';
import { TrendsRepository } from '../trends/trends.repository';
import { growth, isoRange } from '../trends/trends.service';
import {
  AnalyticsLimits,
  checkBuckets,
  moversWindows,
  previousPeriod,
  resolveRange,
} from './analytics-range';
import { AnalyticsRepository, Figures } from './analytics.repository';
import { MoversQueryDto, OverviewQueryDto, PlatformsQueryDto } from './dto/analytics-query.dto';

export interface FiguresView {
  observations: number;
  mentions: number;
  engagement: number;
  distinctTrends: number;
  sentiment: number | null;
}

export interface MoverItem {
  rank: number;
  trendKey: string;
  displayName: string;
  mentions: number;
  previousMentions: number;
  change: number;
  growth: number | null;
}

/** Where a request reads from: rollups (the API) or raw rows only (verification, benchmarks). */
export interface ReadOptions {
  raw?: boolean;
  now?: Date;
}

const view = (f: Figures): FiguresView => ({
  observations: f.observations,
  mentions: f.mentions,
  engagement: f.engagement,
  distinctTrends: f.distinctTrends,
  sentiment: weightedSentiment(f.sentimentWeightedSum, f.sentimentMentions),
});

const difference = (now: FiguresView, before: FiguresView): FiguresView => ({
  observations: now.observations - before.observations,
  mentions: now.mentions - before.mentions,
  engagement: now.engagement - before.engagement,
  distinctTrends: now.distinctTrends - before.distinctTrends,
  sentiment:
    now.sentiment !== null && before.sentiment !== null
      ? roundFloat(now.sentiment - before.sentiment)
      : null,
});

/** Time ranges whose rows decide an overview answer (also the cache's dependency ranges). */
export function overviewRanges(
  query: OverviewQueryDto,
  now: Date,
  limits: AnalyticsLimits,
): TimeRange[] {
  const range = resolveRange(query, now, limits);
  return query.compare === 'previous_period' ? [range, previousPeriod(range)] : [range];
}

export function platformsRanges(
  query: PlatformsQueryDto,
  now: Date,
  limits: AnalyticsLimits,
): TimeRange[] {
  return [resolveRange(query, now, limits)];
}

export function moversRanges(query: MoversQueryDto, now: Date): TimeRange[] {
  const { current, previous } = moversWindows(query, now);
  return [previous, current];
}

@Injectable()
export class AnalyticsService {
  private readonly limits: AnalyticsLimits;

  constructor(
    private readonly repository: AnalyticsRepository,
    private readonly trends: TrendsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = {
      maxRangeDays: config.analytics.maxRangeDays,
      maxBuckets: config.analytics.maxBuckets,
    };
  }

  async overview(query: OverviewQueryDto, opts: ReadOptions = {}) {
    const ranges = overviewRanges(query, opts.now ?? new Date(), this.limits);
    checkBuckets(ranges, this.limits, 'from');
    const scope = { platform: query.platform, region: query.region };
    const [current, before] = await Promise.all(
      ranges.map((range) => this.repository.overview(range, scope, opts.raw)),
    );
    const totals = view(current.totals);
    const answer = {
      ...isoRange(ranges[0]),
      totals,
      platforms: current.platforms
        .map((p) => ({ platform: p.platform, ...view(p) }))
        .sort(byMentionsThenPlatform),
    };
    if (!before) return answer;
    const previous = view(before.totals);
    return { ...answer, previous, change: difference(totals, previous) };
  }

  async platforms(query: PlatformsQueryDto, opts: ReadOptions = {}) {
    const [range] = platformsRanges(query, opts.now ?? new Date(), this.limits);
    checkBuckets([range], this.limits, 'from');
    const { totals, platforms } = await this.repository.overview(
      range,
      { region: query.region },
      opts.raw,
    );
    return {
      ...isoRange(range),
      items: platforms
        .map((p) => ({
          platform: p.platform,
          mentions: p.mentions,
          engagement: p.engagement,
          observations: p.observations,
          distinctTrends: p.distinctTrends,
          share: totals.mentions > 0 ? p.mentions / totals.mentions : 0,
        }))
        .sort(byMentionsThenPlatform),
    };
  }

  async movers(query: MoversQueryDto, opts: ReadOptions = {}) {
    const { current, previous, raw } = moversWindows(query, opts.now ?? new Date());
    checkBuckets([current, previous], this.limits, 'window');
    const rows = await this.repository.movers(
      current,
      previous,
      { platform: query.platform, region: query.region },
      {
        direction: query.direction,
        minMentions: query.minMentions,
        limit: query.limit,
        raw: raw || opts.raw === true,
      },
    );
    const names = await this.trends.displayNames(rows.map((r) => r.trendKey));
    const shape = (list: typeof rows): MoverItem[] =>
      list.map((r, i) => ({
        rank: i + 1,
        trendKey: r.trendKey,
        displayName: names.get(r.trendKey) ?? r.trendKey,
        mentions: r.mentions,
        previousMentions: r.previousMentions,
        change: r.mentions - r.previousMentions,
        growth: growth(r.mentions, r.previousMentions),
      }));
    return {
      window: isoRange(current),
      direction: query.direction,
      items: shape(rows.filter((r) => r.kind === 'item')),
      new: shape(rows.filter((r) => r.kind === 'new')),
    };
  }
}

/** Platforms by mentions (descending), ties by platform slug. */
function byMentionsThenPlatform(
  a: { platform: string; mentions: number },
  b: { platform: string; mentions: number },
) {
  return (
    b.mentions - a.mentions || (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0)
  );
}
