import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { ObservationRow } from './ingest-validator';

/** What one committed batch changed, per platform and UTC day (for metrics and the cache). */
export interface IngestedGroup {
  platform: string;
  day: string;
  accepted: number;
}

const DEADLOCK = '40P01';
const SERIALIZATION = '40001';
// A row routed to the DEFAULT partition just as the partition job moved that range out of it:
// PostgreSQL refuses it; sent again, it lands in the new partition. (These tables have no CHECKs.)
const PARTITION_MOVED = '23514';
const RETRYABLE = new Set([DEADLOCK, SERIALIZATION, PARTITION_MOVED]);
const MAX_ATTEMPTS = 3;

/**
 * Wait before retry `attempt` (1-based): a few ms, doubling, with full jitter, so two batches
 * that just deadlocked each other do not collide again at once.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * 5 * 2 ** (attempt - 1));
}

/**
 * The ingest statement: insert the batch, skip duplicates of the dedup key, and add exactly the
 * inserted rows to the hourly and daily rollups and the trend catalogue — one statement, so one
 * transaction: a batch and its rollups commit together or not at all. Rollup rows are upserted
 * in key order so concurrent batches lock them in the same order.
 */
export const INGEST_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                       $6::bigint[], $7::bigint[], $8::real[], $9::text[], $10::jsonb[])
    AS t(platform, region, trend_key, display_name, observed_at, mentions, engagement,
         sentiment, source_id, metadata)
),
ins AS (
  INSERT INTO trend_observations AS o
    (platform, region, trend_key, display_name, observed_at, mentions, engagement, sentiment,
     source_id, metadata)
  SELECT platform, region, trend_key, display_name, observed_at, mentions, engagement, sentiment,
         source_id, metadata
  FROM input
  ORDER BY platform, region, trend_key, observed_at
  ON CONFLICT (platform, region, trend_key, observed_at) DO NOTHING
  RETURNING platform, region, trend_key, display_name, observed_at, mentions, engagement, sentiment
),
hourly AS (
  INSERT INTO trend_rollups_hourly AS r
    (bucket, platform, region, trend_key, mentions, engagement, samples,
     sentiment_weighted_sum, sentiment_mentions)
  SELECT date_trunc('hour', observed_at, 'UTC'), platform, region, trend_key,
         sum(mentions), sum(engagement), count(*),
         coalesce(sum(sentiment::text::float8 * mentions), 0),
         coalesce(sum(mentions) FILTER (WHERE sentiment IS NOT NULL), 0)
  FROM ins
  GROUP BY 1, 2, 3, 4
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket, platform, region, trend_key) DO UPDATE SET
    mentions = r.mentions + excluded.mentions,
    engagement = r.engagement + excluded.engagement,
    samples = r.samples + excluded.samples,
    sentiment_weighted_sum = r.sentiment_weighted_sum + excluded.sentiment_weighted_sum,
    sentiment_mentions = r.sentiment_mentions + excluded.sentiment_mentions
),
daily AS (
  INSERT INTO trend_rollups_daily AS r
    (bucket, platform, region, trend_key, mentions, engagement, samples,
     sentiment_weighted_sum, sentiment_mentions)
  SELECT date_trunc('day', observed_at, 'UTC'), platform, region, trend_key,
         sum(mentions), sum(engagement), count(*),
         coalesce(sum(sentiment::text::float8 * mentions), 0),
         coalesce(sum(mentions) FILTER (WHERE sentiment IS NOT NULL), 0)
  FROM ins
  GROUP BY 1, 2, 3, 4
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket, platform, region, trend_key) DO UPDATE SET
    mentions = r.mentions + excluded.mentions,
    engagement = r.engagement + excluded.engagement,
    samples = r.samples + excluded.samples,
    sentiment_weighted_sum = r.sentiment_weighted_sum + excluded.sentiment_weighted_sum,
    sentiment_mentions = r.sentiment_mentions + excluded.sentiment_mentions
),
names AS (
  -- Mentions per spelling: the display name is the spelling with the most (see displayNames()).
  INSERT INTO trend_display_names AS n (trend_key, display_name, mentions, last_seen_at)
  SELECT trend_key, display_name, sum(mentions), max(observed_at)
  FROM ins
  GROUP BY 1, 2
  ORDER BY 1, 2
  ON CONFLICT (trend_key, display_name) DO UPDATE SET
    mentions = n.mentions + excluded.mentions,
    last_seen_at = greatest(n.last_seen_at, excluded.last_seen_at)
),
catalog AS (
  -- The catalogue's own name (latest observation; ties: the greatest name) stands in for keys
  -- with no spelling rows (history older than the spellings table).
  INSERT INTO trend_catalog AS c (trend_key, display_name, first_seen_at, last_seen_at)
  SELECT trend_key,
         (array_agg(display_name ORDER BY observed_at DESC, display_name COLLATE "C" DESC))[1],
         min(observed_at), max(observed_at)
  FROM ins
  GROUP BY trend_key
  ORDER BY trend_key
  ON CONFLICT (trend_key) DO UPDATE SET
    display_name = CASE
      WHEN (excluded.last_seen_at, excluded.display_name COLLATE "C")
         > (c.last_seen_at, c.display_name COLLATE "C")
      THEN excluded.display_name ELSE c.display_name END,
    first_seen_at = least(c.first_seen_at, excluded.first_seen_at),
    last_seen_at = greatest(c.last_seen_at, excluded.last_seen_at)
  -- write a new row version only when something changes (most batches repeat known keys)
  WHERE excluded.last_seen_at > c.last_seen_at
     OR excluded.first_seen_at < c.first_seen_at
     OR (excluded.last_seen_at = c.last_seen_at
         AND excluded.display_name COLLATE "C" > c.display_name COLLATE "C")
)
SELECT platform, to_char(date_trunc('day', observed_at, 'UTC'), 'YYYY-MM-DD') AS day,
       count(*)::int AS accepted
FROM ins
GROUP BY 1, 2`;

@Injectable()
export class IngestRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores a deduplicated batch with its rollups; retries deadlocks, serialization failures and
   * a partition moved under it, up to MAX_ATTEMPTS, after a short jittered pause.
   */
  async insertBatch(rows: ObservationRow[]): Promise<IngestedGroup[]> {
    const params = [
      rows.map((r) => r.platform),
      rows.map((r) => r.region),
      rows.map((r) => r.trendKey),
      rows.map((r) => r.displayName),
      rows.map((r) => r.observedAt),
      rows.map((r) => r.mentions),
      rows.map((r) => r.engagement),
      rows.map((r) => r.sentiment),
      rows.map((r) => r.sourceId),
      rows.map((r) => r.metadata),
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.dataSource.query(INGEST_SQL, params)) as IngestedGroup[];
      } catch (error) {
        const code = (error as { driverError?: { code?: string } }).driverError?.code;
        if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE.has(code)) throw error;
      }
      await sleep(retryDelayMs(attempt));
    }
  }

  /** Whether any observation was ever stored (the demo loader only fills an empty database). */
  async hasObservations(): Promise<boolean> {
    const [row] = (await this.dataSource.query(
      'SELECT EXISTS (SELECT 1 FROM trend_observations) AS present',
    )) as { present: boolean }[];
    return row.present;
  }

  /** keep_days of the raw-observation retention policy, or null when it is off. */
  async rawRetentionDays(): Promise<number | null> {
    const rows = (await this.dataSource.query(
      `SELECT keep_days FROM retention_policies WHERE table_name = 'trend_observations' AND enabled`,
    )) as { keep_days: number }[];
    return rows.length ? rows[0].keep_days : null;
  }
}
