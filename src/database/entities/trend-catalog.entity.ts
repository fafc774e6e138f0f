import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One row per trend key: the name of its latest observation (fallback display name) and when it was seen. */
@Entity('trend_catalog')
@Index('idx_trend_catalog_prefix', { synchronize: false })
export class TrendCatalog {
  @PrimaryColumn({ name: 'trend_key', type: 'text', primaryKeyConstraintName: 'pk_trend_catalog' })
  trendKey: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName: string;

  @Column({ name: 'first_seen_at', type: 'timestamptz' })
  firstSeenAt: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt: Date;
}
