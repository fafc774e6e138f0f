import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Columns shared by the hourly and daily rollups: exact sums per bucket and trend. */
abstract class TrendRollup {
  @Column({ type: 'bigint' })
  mentions: string;

  @Column({ type: 'bigint' })
  engagement: string;

  @Column({ type: 'bigint' })
  samples: string;

  @Column({ name: 'sentiment_weighted_sum', type: 'double precision', default: 0 })
  sentimentWeightedSum: number;

  @Column({ name: 'sentiment_mentions', type: 'bigint', default: 0 })
  sentimentMentions: string;
}

/** Hourly rollup; partitioned monthly on bucket. */
@Entity('trend_rollups_hourly')
@Index('idx_trend_rollups_hourly_key', ['trendKey', 'bucket'])
export class TrendRollupHourly extends TrendRollup {
  @PrimaryColumn({ type: 'timestamptz', primaryKeyConstraintName: 'pk_trend_rollups_hourly' })
  bucket: Date;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_trend_rollups_hourly' })
  platform: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_trend_rollups_hourly' })
  region: string;

  @PrimaryColumn({
    name: 'trend_key',
    type: 'text',
    primaryKeyConstraintName: 'pk_trend_rollups_hourly',
  })
  trendKey: string;
}

/** Daily (UTC) rollup; partitioned yearly on bucket. */
@Entity('trend_rollups_daily')
@Index('idx_trend_rollups_daily_key', ['trendKey', 'bucket'])
export class TrendRollupDaily extends TrendRollup {
  @PrimaryColumn({ type: 'timestamptz', primaryKeyConstraintName: 'pk_trend_rollups_daily' })
  bucket: Date;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_trend_rollups_daily' })
  platform: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_trend_rollups_daily' })
  region: string;

  @PrimaryColumn({
    name: 'trend_key',
    type: 'text',
    primaryKeyConstraintName: 'pk_trend_rollups_daily',
  })
  trendKey: string;
}
