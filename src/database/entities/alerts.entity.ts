import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** Where notifications go (SPEC §12): a Standard Webhooks endpoint or a Slack-compatible one. */
@Entity('notification_channels')
export class NotificationChannel {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'pk_notification_channels',
  })
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'text', nullable: true })
  secret: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;
}

@Entity('alert_rules')
export class AlertRule {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'pk_alert_rules',
  })
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  kind: string;

  @Column({ type: 'text' })
  metric: string;

  @Column({ name: 'window_name', type: 'text' })
  windowName: string;

  @Column({ name: 'scope_trend_key', type: 'text', nullable: true })
  scopeTrendKey: string | null;

  @Column({ name: 'scope_platform', type: 'text', nullable: true })
  scopePlatform: string | null;

  @Column({ name: 'scope_region', type: 'text', nullable: true })
  scopeRegion: string | null;

  @Column({ type: 'double precision' })
  threshold: number;

  @Column({ name: 'min_mentions', type: 'bigint', default: 0 })
  minMentions: string;

  @Column({ name: 'baseline_hours', type: 'integer', default: 168 })
  baselineHours: number;

  @Column({ name: 'for_ms', type: 'bigint', default: 0 })
  forMs: string;

  @Column({ name: 'keep_firing_for_ms', type: 'bigint', default: 0 })
  keepFiringForMs: string;

  @Column({ name: 'repeat_interval_ms', type: 'bigint', default: 14400000 })
  repeatIntervalMs: string;

  @Column({ type: 'text' })
  severity: string;

  @Column({ name: 'channel_ids', type: 'bigint', array: true, default: () => "'{}'" })
  channelIds: string[];

  @Column({ name: 'quiet_hours', type: 'jsonb', nullable: true })
  quietHours: Record<string, unknown> | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ type: 'integer', default: 1 })
  version: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  @Column({ name: 'updated_by', type: 'text' })
  updatedBy: string;
}

/** Current state of one rule × series; a row exists only while the series is not normal. */
@Entity('alert_instances')
export class AlertInstance {
  @PrimaryColumn({
    name: 'rule_id',
    type: 'bigint',
    primaryKeyConstraintName: 'pk_alert_instances',
  })
  ruleId: string;

  @PrimaryColumn({
    name: 'trend_key',
    type: 'text',
    primaryKeyConstraintName: 'pk_alert_instances',
  })
  trendKey: string;

  @Column({ type: 'text' })
  state: string;

  @Column({ type: 'double precision', nullable: true })
  value: number | null;

  @Column({ type: 'timestamptz' })
  since: Date;

  @Column({ name: 'active_at', type: 'timestamptz' })
  activeAt: Date;

  @Column({ type: 'boolean', default: false })
  notified: boolean;

  @Column({ name: 'last_notified_at', type: 'timestamptz', nullable: true })
  lastNotifiedAt: Date | null;

  @Column({ name: 'evaluated_at', type: 'timestamptz' })
  evaluatedAt: Date;
}

/** Append-only history: every transition and every notification decision. */
@Entity('alert_events')
@Index('idx_alert_events_rule', ['ruleId', 'id'])
@Index('idx_alert_events_at', ['at'])
export class AlertEventRow {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'pk_alert_events',
  })
  id: string;

  @Column({ name: 'rule_id', type: 'bigint' })
  ruleId: string;

  @Column({ name: 'rule_name', type: 'text' })
  ruleName: string;

  @Column({ type: 'text' })
  severity: string;

  @Column({ name: 'trend_key', type: 'text' })
  trendKey: string;

  @Column({ type: 'text', nullable: true })
  platform: string | null;

  @Column({ type: 'text', nullable: true })
  region: string | null;

  @Column({ name: 'from_state', type: 'text' })
  fromState: string;

  @Column({ name: 'to_state', type: 'text' })
  toState: string;

  @Column({ type: 'double precision', nullable: true })
  value: number | null;

  @Column({ type: 'double precision' })
  threshold: number;

  @Column({ type: 'timestamptz' })
  since: Date;

  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'text', nullable: true })
  notification: string | null;

  @Column({ type: 'text', nullable: true })
  suppressed: string | null;

  @Column({ type: 'text', nullable: true })
  reason: string | null;
}

/** The outbox: one row per notification × channel, delivered by any replica. */
@Entity('notification_deliveries')
@Unique('uq_notification_deliveries_webhook_id', ['webhookId'])
@Index('idx_notification_deliveries_due', { synchronize: false })
@Index('idx_notification_deliveries_channel', ['channelId', 'id'])
export class NotificationDelivery {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'pk_notification_deliveries',
  })
  id: string;

  @Column({ name: 'webhook_id', type: 'text' })
  webhookId: string;

  @Column({ name: 'event_id', type: 'bigint', nullable: true })
  eventId: string | null;

  @Column({ name: 'channel_id', type: 'bigint' })
  channelId: string;

  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'text', default: 'pending' })
  status: string;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}

@Entity('notification_delivery_attempts')
@Index('idx_notification_delivery_attempts_delivery', ['deliveryId', 'attempt'])
export class NotificationDeliveryAttempt {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'pk_notification_delivery_attempts',
  })
  id: string;

  @Column({ name: 'delivery_id', type: 'bigint' })
  deliveryId: string;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ name: 'latency_ms', type: 'double precision' })
  latencyMs: number;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;
}

@Entity('alert_silences')
@Index('idx_alert_silences_until', ['until'])
export class AlertSilence {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'pk_alert_silences',
  })
  id: string;

  @Column({ name: 'rule_id', type: 'bigint', nullable: true })
  ruleId: string | null;

  @Column({ name: 'trend_key', type: 'text', nullable: true })
  trendKey: string | null;

  @Column({ name: 'starts_at', type: 'timestamptz', default: () => 'now()' })
  startsAt: Date;

  @Column({ type: 'timestamptz' })
  until: Date;

  @Column({ type: 'text' })
  comment: string;

  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;
}
