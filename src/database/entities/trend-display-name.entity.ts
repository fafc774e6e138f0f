import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TrendCatalog } from './trend-catalog.entity';

/** Mentions per spelling of a trend: the display name is the spelling with the most. */
@Entity('trend_display_names')
export class TrendDisplayName {
  @PrimaryColumn({
    name: 'trend_key',
    type: 'text',
    primaryKeyConstraintName: 'pk_trend_display_names',
  })
  trendKey: string;

  @PrimaryColumn({
    name: 'display_name',
    type: 'text',
    primaryKeyConstraintName: 'pk_trend_display_names',
  })
  displayName: string;

  @Column({ type: 'bigint' })
  mentions: string;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt: Date;

  @ManyToOne(() => TrendCatalog, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'trend_key', foreignKeyConstraintName: 'fk_trend_display_names_catalog' })
  catalog?: TrendCatalog;
}
