import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { quoteStrictIdent } from '../database/identifiers';
import { Queryable } from '../database/partitions';
import { ReadReplicasService } from '../database/read-replicas.service';
import { Interval, TimeRange } from '../common/time-window';
import { SENTIMENT_AS_SENT, Scope, SqlParams, observationSource } from './rollup-source';

/** Summed figures of one trend over a range. */
export interface TrendTotals {
  trendKey: string;
  mentions: number;
  engagement: number;
  samples: number;
  sentimentWeightedSum: number;
  sentimentMentions: number;
}

export interface SeriesRow extends Omit<TrendTotals, 'trendKey'> {
  bucket: Date;
}

export interface SearchRow {
  trendKey: string;
  displayName: string;
  lastSeen: Date;
  mentions24h: number;
}

interface TotalsRecord {
  trend_key: string;
  mentions: string;
  engagement: string;
  samples: string;
  sws: number;
  sm: string;
}

const toTotals = (r: TotalsRecord): TrendTotals => ({
  trendKey: r.trend_key,
  mentions: Number(r.mentions),
  engagement: Number(r.engagement),
  samples: Number(r.samples),
  sentimentWeightedSum: Number(r.sws),
  sentimentMentions: Number(r.sm),
});

const SUMS =
  'sum(mentions) AS mentions, sum(engagement) AS engagement, sum(samples) AS samples, ' +
  'coalesce(sum(sws), 0)::float8 AS sws, sum(sm) AS sm';

/**
 * The display name of catalogue row `c`: the spelling with the most mentions, ties by the
 * spelling seen latest, then the greatest name (byte order); the catalogue's own name when the
 * key has no spelling rows.
 */
export const DISPLAY_NAME_SQL = `coalesce((
  SELECT n.display_name FROM trend_display_names n WHERE n.trend_key = c.trend_key
  ORDER BY n.mentions DESC, n.last_seen_at DESC, n.display_name COLLATE "C" DESC LIMIT 1),
  c.display_name)`;

/** SQL of the trend endpoints; answers are sums over rollups (or raw rows for short ranges). */
@Injectable()
export class TrendsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly reads: ReadReplicasService,
  ) {}

  /**
   * Runs several reads in one REPEATABLE READ, read-only transaction, so they see one snapshot
   * (e.g. top's current and previous windows cannot straddle a concurrent ingest). On a read
   * replica when one may answer (SPEC §14), otherwise on the primary.
   */
  consistentRead<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    return this.reads.read({ snapshot: true }, fn, () =>
      this.dataSource.transaction('REPEATABLE READ', async (manager) => {
        await manager.query('SET TRANSACTION READ ONLY');
        return fn(manager);
      }),
    );
  }

  /** One read-only statement, on a read replica when one may answer, else on the primary. */
  private routed(sql: string, params: unknown[]): Promise<unknown> {
    return this.reads.read(
      {},
      (db) => db.query(sql, params),
      () => this.dataSource.query(sql, params),
    );
  }

  /** Trends ranked by mentions (ties: trend key in byte order). */
  async top(
    range: TimeRange,
    scope: Scope,
    limit: number,
    raw: boolean,
    db: Queryable = this.dataSource,
  ): Promise<TrendTotals[]> {
    const params = new SqlParams();
    const source = observationSource(range, scope, params, raw);
    const sql = `SELECT trend_key, ${SUMS} FROM (${source}) s
      GROUP BY trend_key ORDER BY sum(mentions) DESC, trend_key COLLATE "C" LIMIT ${params.add(limit)}`;
    return ((await db.query(sql, params.values)) as TotalsRecord[]).map(toTotals);
  }

  /** Totals per key for the given keys (keys with no rows are absent). */
  async totalsForKeys(
    range: TimeRange,
    scope: Scope,
    raw: boolean,
    db: Queryable = this.dataSource,
  ): Promise<Map<string, TrendTotals>> {
    const params = new SqlParams();
    const source = observationSource(range, scope, params, raw);
    const rows = (await db.query(
      `SELECT trend_key, ${SUMS} FROM (${source}) s GROUP BY trend_key`,
      params.values,
    )) as TotalsRecord[];
    return new Map(rows.map((r) => [r.trend_key, toTotals(r)]));
  }

  /** Display names of `keys`; on `db` when given (a snapshot), else routed like a query read. */
  async displayNames(keys: string[], db?: Queryable): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const sql = `SELECT c.trend_key, ${DISPLAY_NAME_SQL} AS display_name
       FROM trend_catalog c WHERE c.trend_key = ANY($1::text[])`;
    const rows = (await (db ? db.query(sql, [keys]) : this.routed(sql, [keys]))) as {
      trend_key: string;
      display_name: string;
    }[];
    return new Map(rows.map((r) => [r.trend_key, r.display_name]));
  }

  /** The display name of a catalogued trend; null when the key is unknown (or past retention). */
  async displayNameOf(trendKey: string): Promise<string | null> {
    const rows = (await this.dataSource.query(
      `SELECT ${DISPLAY_NAME_SQL} AS display_name FROM trend_catalog c WHERE c.trend_key = $1`,
      [trendKey],
    )) as { display_name: string }[];
    return rows[0]?.display_name ?? null;
  }

  /** Non-empty buckets of one trend; minute buckets come from raw rows. */
  async series(
    trendKey: string,
    range: TimeRange,
    interval: Interval,
    scope: Scope,
  ): Promise<SeriesRow[]> {
    const params = new SqlParams();
    const key = params.add(trendKey);
    const from = params.add(range.from);
    const to = params.add(range.to);
    const filters =
      (scope.platform !== undefined ? ` AND platform = ${params.add(scope.platform)}` : '') +
      (scope.region !== undefined ? ` AND region = ${params.add(scope.region)}` : '');
    const sql =
      interval === 'minute'
        ? `SELECT date_trunc('minute', observed_at, 'UTC') AS bucket, sum(mentions) AS mentions,
             sum(engagement) AS engagement, count(*) AS samples,
             coalesce(sum(${SENTIMENT_AS_SENT} * mentions), 0) AS sws,
             coalesce(sum(mentions) FILTER (WHERE sentiment IS NOT NULL), 0) AS sm
           FROM trend_observations
           WHERE trend_key = ${key} AND observed_at >= ${from} AND observed_at < ${to}${filters}
           GROUP BY 1 ORDER BY 1`
        : `SELECT bucket, sum(mentions) AS mentions, sum(engagement) AS engagement,
             sum(samples) AS samples, sum(sentiment_weighted_sum) AS sws, sum(sentiment_mentions) AS sm
           FROM ${quoteStrictIdent(interval === 'day' ? 'trend_rollups_daily' : 'trend_rollups_hourly')}
           WHERE trend_key = ${key} AND bucket >= ${from} AND bucket < ${to}${filters}
           GROUP BY 1 ORDER BY 1`;
    const rows = (await this.routed(sql, params.values)) as (TotalsRecord & {
      bucket: Date;
    })[];
    return rows.map((r) => ({ bucket: r.bucket, ...toTotals({ ...r, trend_key: trendKey }) }));
  }

  /** Catalogue keys starting with `prefix`, by mentions in `window` (ties: key byte order). */
  async search(prefix: string, window: TimeRange, limit: number): Promise<SearchRow[]> {
    const pattern = prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
    const rows = (await this.routed(
      `WITH matches AS (
         SELECT trend_key, last_seen_at FROM trend_catalog
         WHERE trend_key LIKE $1 ESCAPE '\\'),
       windowed AS (
         SELECT h.trend_key, sum(h.mentions) AS mentions
         FROM trend_rollups_hourly h JOIN matches m USING (trend_key)
         WHERE h.bucket >= $2 AND h.bucket < $3
         GROUP BY h.trend_key),
       ranked AS (
         SELECT m.trend_key, m.last_seen_at, coalesce(w.mentions, 0) AS mentions
         FROM matches m LEFT JOIN windowed w USING (trend_key)
         ORDER BY coalesce(w.mentions, 0) DESC, m.trend_key COLLATE "C"
         LIMIT $4)
       SELECT r.trend_key, ${DISPLAY_NAME_SQL} AS display_name, r.last_seen_at, r.mentions
       FROM ranked r JOIN trend_catalog c USING (trend_key)
       ORDER BY r.mentions DESC, r.trend_key COLLATE "C"`,
      [pattern, window.from, window.to, limit],
    )) as { trend_key: string; display_name: string; last_seen_at: Date; mentions: string }[];
    return rows.map((r) => ({
      trendKey: r.trend_key,
      displayName: r.display_name,
      lastSeen: r.last_seen_at,
      mentions24h: Number(r.mentions),
    }));
  }
}
