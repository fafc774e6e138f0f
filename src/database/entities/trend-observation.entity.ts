import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A raw observation; partitioned monthly on observed_at (see the CreateSchema migration). */
@Entity('trend_observations')
@Unique('uq_trend_observations_dedup', ['trendKey', 'platform', 'region', 'observedAt'])
@Index('idx_trend_observations_time_brin', { synchronize: false })
export class TrendObservation {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'pk_trend_observations',
  })
  id: string;

  @Column({ type: 'text' })
  platform: string;

  @Column({ type: 'text' })
  region: string;

  @Column({ name: 'trend_key', type: 'text' })
  trendKey: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName: string;

  @PrimaryColumn({
    name: 'observed_at',
    type: 'timestamptz',
    primaryKeyConstraintName: 'pk_trend_observations',
  })
  observedAt: Date;

  @Column({ type: 'bigint' })
  mentions: string;

  @Column({ type: 'bigint', default: 0 })
  engagement: string;

  @Column({ type: 'real', nullable: true })
  sentiment: number | null;

  @Column({ name: 'source_id', type: 'text', nullable: true })
  sourceId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata: Record<string, unknown> | null;

  @Column({ name: 'ingested_at', type: 'timestamptz', default: () => 'now()' })
  ingestedAt: Date;
}
