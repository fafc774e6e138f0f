import { analyticsSource } from '../analytics/analytics.repository';
import { HOUR, TimeRange, floorTo } from '../common/time-window';
import { Scope, SqlParams } from '../trends/rollup-source';
import { RuleDef } from './rule';

export interface EvaluationRow {
  trend_key: string;
  /** The rule value: window total, growth, z-score or new-trend total. */
  value: number | null;
  /** Window total of the metric. */
  current: number;
  /** growth: previous window total; spike: baseline mean per hour. */
  previous: number | null;
  cond: boolean;
}

/** Metric columns by name: never user text in SQL. */
const METRIC_COLUMN = { mentions: 'mentions', engagement: 'engagement' } as const;

export interface EvaluationWindows {
  current: TimeRange;
  previous: TimeRange;
  /** spike: whole hours [from, to) of the baseline. */
  baseline: TimeRange;
}

/** Windows end at the evaluation time t: current [t − w, t), previous [t − 2w, t − w). */
export function evaluationWindows(
  rule: Pick<RuleDef, 'windowMs' | 'baselineHours'>,
  t: Date,
): EvaluationWindows {
  const from = new Date(t.getTime() - rule.windowMs);
  const baselineTo = floorTo(from, HOUR);
  return {
    current: { from, to: t },
    previous: { from: new Date(from.getTime() - rule.windowMs), to: from },
    baseline: { from: new Date(baselineTo.getTime() - rule.baselineHours * HOUR), to: baselineTo },
  };
}

function scopeOf(rule: RuleDef): Scope {
  return {
    platform: rule.scope.platform ?? undefined,
    region: rule.scope.region ?? undefined,
    keys: rule.scope.trendKey === null ? undefined : [rule.scope.trendKey],
  };
}

function filterSql(scope: Scope, params: SqlParams, alias = ''): string {
  const p = alias ? `${alias}.` : '';
  let sql = '';
  if (scope.platform !== undefined) sql += ` AND ${p}platform = ${params.add(scope.platform)}`;
  if (scope.region !== undefined) sql += ` AND ${p}region = ${params.add(scope.region)}`;
  if (scope.keys !== undefined)
    sql += ` AND ${p}trend_key = ANY(${params.add(scope.keys)}::text[])`;
  return sql;
}

/**
 * One set-based statement per rule: every series of the rule's scope with its value and
 * whether the condition holds at t. Window totals come from the same row source as the
 * analytics endpoints (rollups for whole hours, raw rows for the ragged minutes), so they equal
 * the §5 aggregates over raw rows. Returns the series meeting the condition, highest value
 * first (at most `maxSeries`), plus the `activeKeys` (series not normal) whatever their value.
 */
export function evaluationQuery(
  rule: RuleDef,
  t: Date,
  maxSeries: number,
  activeKeys: string[],
): { sql: string; params: unknown[] } {
  const params = new SqlParams();
  const scope = scopeOf(rule);
  const windows = evaluationWindows(rule, t);
  const metric = METRIC_COLUMN[rule.metric];
  const current = `cur AS (
      SELECT trend_key, sum(${metric}) AS v, sum(mentions) AS mn
      FROM (${analyticsSource(windows.current, scope, params)}) s GROUP BY trend_key)`;
  const threshold = `${params.add(rule.threshold)}::numeric`;
  let body: string;
  switch (rule.kind) {
    case 'threshold':
      body = `WITH ${current}
        SELECT trend_key, v AS current, NULL::numeric AS previous, v AS value, v >= ${threshold} AS cond
        FROM cur`;
      break;
    case 'growth': {
      const minMentions = params.add(rule.minMentions);
      body = `WITH ${current},
        prev AS (
          SELECT trend_key, sum(${metric}) AS v, sum(mentions) AS mn
          FROM (${analyticsSource(windows.previous, scope, params)}) s GROUP BY trend_key),
        j AS (
          SELECT p.trend_key, coalesce(c.v, 0) AS current, p.v AS previous, p.mn AS prev_mentions,
                 CASE WHEN p.v > 0 THEN (coalesce(c.v, 0) - p.v) / p.v END AS value
          FROM prev p LEFT JOIN cur c USING (trend_key))
        SELECT trend_key, current, previous, value,
               coalesce(prev_mentions >= ${minMentions} AND value >= ${threshold}, false) AS cond
        FROM j`;
      break;
    }
    case 'spike': {
      // Hourly baseline over whole hours before the window; hours without rows count as 0 from
      // the series' first hour in the baseline on. The window's total is scaled to an hourly rate.
      const baseFrom = params.add(windows.baseline.from);
      const baseTo = params.add(windows.baseline.to);
      const hours = `${params.add(rule.windowMs / HOUR)}::numeric`;
      const minMentions = params.add(rule.minMentions);
      body = `WITH ${current},
        hourly AS (
          SELECT trend_key, bucket, sum(${metric}) AS x FROM trend_rollups_hourly
          WHERE bucket >= ${baseFrom} AND bucket < ${baseTo}${filterSql(scope, params)}
          GROUP BY trend_key, bucket),
        base AS (
          SELECT trend_key, sum(x) AS sx, sum(x * x) AS sxx,
                 (extract(epoch FROM (${baseTo}::timestamptz - min(bucket))) / 3600)::numeric AS n
          FROM hourly GROUP BY trend_key),
        stats AS (
          SELECT c.trend_key, c.v AS current, c.mn, b.n, b.sx / b.n AS mean,
                 greatest(sqrt(greatest(b.sxx / b.n - (b.sx / b.n) ^ 2, 0)), 1) AS sigma
          FROM cur c JOIN base b USING (trend_key))
        SELECT trend_key, current, mean AS previous, (current / ${hours} - mean) / sigma AS value,
               (n >= 24 AND mn >= ${minMentions} AND (current / ${hours} - mean) / sigma >= ${threshold}) AS cond
        FROM stats`;
      break;
    }
    case 'new_trend': {
      // First seen inside the window: no hourly rollup row before the window's hour and no raw
      // row in the ragged minutes between that hour and the window start (same scope).
      const hourStart = params.add(floorTo(windows.current.from, HOUR));
      const from = params.add(windows.current.from);
      body = `WITH ${current}
        SELECT trend_key, v AS current, NULL::numeric AS previous, v AS value,
               (v >= ${threshold}
                AND NOT EXISTS (SELECT 1 FROM trend_rollups_hourly h
                                WHERE h.trend_key = cur.trend_key AND h.bucket < ${hourStart}${filterSql(scope, params, 'h')})
                AND NOT EXISTS (SELECT 1 FROM trend_observations o
                                WHERE o.trend_key = cur.trend_key AND o.observed_at >= ${hourStart}
                                  AND o.observed_at < ${from}${filterSql(scope, params, 'o')})) AS cond
        FROM cur`;
      break;
    }
  }
  const active = params.add(activeKeys);
  const limit = params.add(maxSeries + activeKeys.length);
  const sql = `SELECT trend_key, value::float8 AS value, current::float8 AS current,
           previous::float8 AS previous, cond
    FROM (${body}) r
    WHERE cond OR trend_key = ANY(${active}::text[])
    ORDER BY cond DESC, value DESC NULLS LAST, trend_key COLLATE "C"
    LIMIT ${limit}`;
  return { sql, params: params.values };
}
