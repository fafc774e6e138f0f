import { TimeRange, rollupSegments } from '../common/time-window';

/** Optional filters shared by every trend and analytics query. */
export interface Scope {
  platform?: string;
  region?: string;
  /** Restrict to these trend keys. */
  keys?: string[];
}

/**
 * Collects positional parameters while SQL is assembled, so every value is a bind parameter.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const COLUMNS_FROM_ROLLUP =
  'platform, region, trend_key, mentions, engagement, samples, ' +
  'sentiment_weighted_sum AS sws, sentiment_mentions AS sm';

/**
 * A stored sentiment (real) as the number that was sent: float4's shortest decimal text
 * (PostgreSQL's default output, extra_float_digits >= 1) read as float8, so 0.4 sums as 0.4
 * and not as 0.4000000059604645. Ingest sums rollups with the same expression.
 */
export const SENTIMENT_AS_SENT = 'sentiment::text::float8';

const COLUMNS_FROM_RAW =
  'platform, region, trend_key, mentions, engagement, 1 AS samples, ' +
  `${SENTIMENT_AS_SENT} * mentions AS sws, CASE WHEN sentiment IS NULL THEN 0 ELSE mentions END AS sm`;

function filters(scope: Scope, params: SqlParams): string {
  let sql = '';
  if (scope.platform !== undefined) sql += ` AND platform = ${params.add(scope.platform)}`;
  if (scope.region !== undefined) sql += ` AND region = ${params.add(scope.region)}`;
  if (scope.keys !== undefined) sql += ` AND trend_key = ANY(${params.add(scope.keys)}::text[])`;
  return sql;
}

/**
 * A row source with columns (platform, region, trend_key, mentions, engagement, samples,
 * sws, sm) — sws/sm being the mention-weighted sentiment sum and the mentions that carried a
 * sentiment — covering exactly [from, to). Hour-aligned ranges read the daily rollup for whole
 * UTC days and the hourly rollup for the ragged ends; other ranges read raw observations.
 * Aggregating this source gives the same answer as aggregating raw rows.
 */
export function observationSource(
  range: TimeRange,
  scope: Scope,
  params: SqlParams,
  raw = false,
): string {
  if (raw) {
    return (
      `SELECT ${COLUMNS_FROM_RAW} FROM trend_observations ` +
      `WHERE observed_at >= ${params.add(range.from)} AND observed_at < ${params.add(range.to)}` +
      filters(scope, params)
    );
  }
  const segments = rollupSegments(range);
  if (segments.length === 0) {
    return `SELECT ${COLUMNS_FROM_ROLLUP} FROM trend_rollups_hourly WHERE false`;
  }
  return segments
    .map(
      (segment) =>
        `SELECT ${COLUMNS_FROM_ROLLUP} FROM trend_rollups_${segment.grain === 'day' ? 'daily' : 'hourly'} ` +
        `WHERE bucket >= ${params.add(segment.from)} AND bucket < ${params.add(segment.to)}` +
        filters(scope, params),
    )
    .join('\nUNION ALL\n');
}

/**
 * Mention-weighted sentiment from summed parts; null when no mention carried a sentiment.
 * Rounded to 15 significant digits, which drops float8 arithmetic noise (0.4·3/3 reads 0.4,
 * not 0.4000000000000001) and keeps every digit a weighted mean of sent values can claim.
 */
export function weightedSentiment(weightedSum: number, sentimentMentions: number): number | null {
  return sentimentMentions > 0 ? roundFloat(weightedSum / sentimentMentions) : null;
}

/** A float8 result without arithmetic noise: 15 significant digits. */
export const roundFloat = (value: number): number => Number(value.toPrecision(15));
