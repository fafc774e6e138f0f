import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TimeRange } from '../common/time-window';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/config';
import { Queryable } from '../database/partitions';
import { ReadReplicasService } from '../database/read-replicas.service';
import { withSession } from '../database/session';
import { Scope, SqlParams, observationSource } from '../trends/rollup-source';
import { splitRange } from './analytics-range';

/** Summed figures of a scope (all platforms, or one platform). */
export interface Figures {
  observations: number;
  mentions: number;
  engagement: number;
  distinctTrends: number;
  sentimentWeightedSum: number;
  sentimentMentions: number;
}

export interface PlatformFigures extends Figures {
  platform: string;
}

export interface OverviewRows {
  totals: Figures;
  platforms: PlatformFigures[];
}

export interface MoverRow {
  kind: 'item' | 'new';
  trendKey: string;
  mentions: number;
  previousMentions: number;
}

export interface BuiltQuery {
  sql: string;
  params: unknown[];
}

/**
 * Row source over exactly [from, to): rollups for whole hours (daily for whole UTC days),
 * raw observations for ragged minutes at the ends. `raw` reads raw rows only (verification
 * and benchmarks).
 */
export function analyticsSource(
  range: TimeRange,
  scope: Scope,
  params: SqlParams,
  raw = false,
): string {
  const parts = raw ? [{ range, raw: true }] : splitRange(range);
  if (parts.length === 0)
    return observationSource({ from: range.from, to: range.from }, scope, params);
  return parts.map((p) => observationSource(p.range, scope, params, p.raw)).join('\nUNION ALL\n');
}

/** Overview: per platform and overall; one statement. Totals come as the row with platform NULL. */
export function overviewQuery(range: TimeRange, scope: Scope, raw = false): BuiltQuery {
  const params = new SqlParams();
  const source = analyticsSource(range, scope, params, raw);
  const sql = `WITH per_key AS MATERIALIZED (
      SELECT platform, trend_key, sum(mentions) AS mentions, sum(engagement) AS engagement,
             sum(samples) AS samples, coalesce(sum(sws), 0)::float8 AS sws, sum(sm) AS sm
      FROM (${source}) s
      GROUP BY platform, trend_key)
    SELECT platform, count(*) AS trends, sum(samples) AS samples, sum(mentions) AS mentions,
           sum(engagement) AS engagement, sum(sws)::float8 AS sws, sum(sm) AS sm
    FROM per_key GROUP BY platform
    UNION ALL
    SELECT NULL, count(DISTINCT trend_key), coalesce(sum(samples), 0), coalesce(sum(mentions), 0),
           coalesce(sum(engagement), 0), coalesce(sum(sws), 0)::float8, coalesce(sum(sm), 0)
    FROM per_key`;
  return { sql, params: params.values };
}

/**
 * Movers: per-key mentions in the current and previous window (a key present in either).
 * Items: previous > 0, moving in `direction`, ranked by growth (compared as an exact decimal
 * with 30 fractional digits), then change, then key in byte order. New: previous = 0, by
 * mentions then key. Both lists honour minMentions ("under it in both windows" = ignored).
 */
export function moversQuery(
  current: TimeRange,
  previous: TimeRange,
  scope: Scope,
  opts: { direction: 'rising' | 'falling'; minMentions: number; limit: number; raw: boolean },
): BuiltQuery {
  const params = new SqlParams();
  const now = analyticsSource(current, scope, params, opts.raw);
  const before = analyticsSource(previous, scope, params, opts.raw);
  const min = params.add(opts.minMentions);
  const limit = params.add(opts.limit);
  const rising = opts.direction === 'rising';
  const order = rising ? 'DESC' : 'ASC';
  const sql = `WITH cur AS (SELECT trend_key, sum(mentions) AS m FROM (${now}) s GROUP BY trend_key),
    prev AS (SELECT trend_key, sum(mentions) AS m FROM (${before}) s GROUP BY trend_key),
    joined AS MATERIALIZED (
      SELECT trend_key, coalesce(cur.m, 0) AS m, coalesce(prev.m, 0) AS p
      FROM cur FULL JOIN prev USING (trend_key)),
    items AS (
      SELECT 'item' AS kind, trend_key, m, p,
             row_number() OVER (ORDER BY m::numeric(50, 30) / p ${order}, m - p ${order}, trend_key COLLATE "C") AS pos
      FROM joined
      WHERE p > 0 AND m ${rising ? '>' : '<'} p AND (m >= ${min} OR p >= ${min})
      ORDER BY pos
      LIMIT ${limit}),
    fresh AS (
      SELECT 'new' AS kind, trend_key, m, p,
             row_number() OVER (ORDER BY m DESC, trend_key COLLATE "C") AS pos
      FROM joined
      WHERE p = 0 AND m > 0 AND m >= ${min}
      ORDER BY pos
      LIMIT ${limit})
    SELECT * FROM items
    UNION ALL
    SELECT * FROM fresh`;
  return { sql, params: params.values };
}

interface FiguresRecord {
  platform: string | null;
  trends: string;
  samples: string;
  mentions: string;
  engagement: string;
  sws: number;
  sm: string;
}

const toFigures = (r: FiguresRecord): Figures => ({
  observations: Number(r.samples),
  mentions: Number(r.mentions),
  engagement: Number(r.engagement),
  distinctTrends: Number(r.trends),
  sentimentWeightedSum: Number(r.sws),
  sentimentMentions: Number(r.sm),
});

/** SQL of the analytics endpoints; each statement runs under its own statement_timeout. */
@Injectable()
export class AnalyticsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reads: ReadReplicasService,
  ) {}

  async overview(range: TimeRange, scope: Scope, raw = false): Promise<OverviewRows> {
    const rows = await this.guarded<FiguresRecord>(overviewQuery(range, scope, raw));
    const totals = rows.find((r) => r.platform === null);
    return {
      totals: toFigures(
        totals ?? {
          platform: null,
          trends: '0',
          samples: '0',
          mentions: '0',
          engagement: '0',
          sws: 0,
          sm: '0',
        },
      ),
      platforms: rows
        .filter((r) => r.platform !== null)
        .map((r) => ({ platform: r.platform as string, ...toFigures(r) })),
    };
  }

  async movers(
    current: TimeRange,
    previous: TimeRange,
    scope: Scope,
    opts: { direction: 'rising' | 'falling'; minMentions: number; limit: number; raw: boolean },
  ): Promise<MoverRow[]> {
    const rows = await this.guarded<{
      kind: 'item' | 'new';
      trend_key: string;
      m: string;
      p: string;
      pos: string;
    }>(moversQuery(current, previous, scope, opts));
    return rows
      .sort((a, b) =>
        a.kind === b.kind ? Number(a.pos) - Number(b.pos) : a.kind === 'item' ? -1 : 1,
      )
      .map((r) => ({
        kind: r.kind,
        trendKey: r.trend_key,
        mentions: Number(r.m),
        previousMentions: Number(r.p),
      }));
  }

  /**
   * Runs one statement in a read-only transaction under a local statement_timeout, so a
   * runaway aggregate is cancelled (SQLSTATE 57014 → 503) and the connection goes back clean.
   */
  private guarded<T>(query: BuiltQuery): Promise<T[]> {
    const statementTimeoutMs = this.config.analytics.statementTimeoutMs;
    const run = async (db: Queryable) => (await db.query(query.sql, query.params)) as T[];
    // On a read replica when one may answer (SPEC §14); the primary otherwise or on failure.
    return this.reads.read({ statementTimeoutMs }, run, () =>
      withSession(this.dataSource, { transaction: true, readOnly: true, statementTimeoutMs }, run),
    );
  }
}
