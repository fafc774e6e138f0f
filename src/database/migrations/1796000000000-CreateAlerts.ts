import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts (SPEC §12): rules, the current state of each rule × series, the append-only history of
 * transitions, notification channels, the delivery outbox with every attempt, and silences.
 * No foreign keys: history (events, deliveries) outlives the rules and channels it names, and
 * the service removes dependent rows itself in the transaction that deletes a rule or channel.
 */
export class CreateAlerts1796000000000 implements MigrationInterface {
  name = 'CreateAlerts1796000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE notification_channels (
        id bigint GENERATED ALWAYS AS IDENTITY,
        name text NOT NULL,
        type text NOT NULL,
        url text NOT NULL,
        secret text,
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL,
        CONSTRAINT pk_notification_channels PRIMARY KEY (id)
      )`);

    await queryRunner.query(`
      CREATE TABLE alert_rules (
        id bigint GENERATED ALWAYS AS IDENTITY,
        name text NOT NULL,
        kind text NOT NULL,
        metric text NOT NULL,
        window_name text NOT NULL,
        scope_trend_key text,
        scope_platform text,
        scope_region text,
        threshold double precision NOT NULL,
        min_mentions bigint NOT NULL DEFAULT 0,
        baseline_hours integer NOT NULL DEFAULT 168,
        for_ms bigint NOT NULL DEFAULT 0,
        keep_firing_for_ms bigint NOT NULL DEFAULT 0,
        repeat_interval_ms bigint NOT NULL DEFAULT 14400000,
        severity text NOT NULL,
        channel_ids bigint array NOT NULL DEFAULT '{}',
        quiet_hours jsonb,
        enabled boolean NOT NULL DEFAULT true,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text NOT NULL,
        CONSTRAINT pk_alert_rules PRIMARY KEY (id)
      )`);

    await queryRunner.query(`
      CREATE TABLE alert_instances (
        rule_id bigint NOT NULL,
        trend_key text NOT NULL,
        state text NOT NULL,
        value double precision,
        since timestamptz NOT NULL,
        active_at timestamptz NOT NULL,
        notified boolean NOT NULL DEFAULT false,
        last_notified_at timestamptz,
        evaluated_at timestamptz NOT NULL,
        CONSTRAINT pk_alert_instances PRIMARY KEY (rule_id, trend_key)
      )`);

    await queryRunner.query(`
      CREATE TABLE alert_events (
        id bigint GENERATED ALWAYS AS IDENTITY,
        rule_id bigint NOT NULL,
        rule_name text NOT NULL,
        severity text NOT NULL,
        trend_key text NOT NULL,
        platform text,
        region text,
        from_state text NOT NULL,
        to_state text NOT NULL,
        value double precision,
        threshold double precision NOT NULL,
        since timestamptz NOT NULL,
        at timestamptz NOT NULL,
        notification text,
        suppressed text,
        reason text,
        CONSTRAINT pk_alert_events PRIMARY KEY (id)
      )`);
    await queryRunner.query(`CREATE INDEX idx_alert_events_rule ON alert_events (rule_id, id)`);
    await queryRunner.query(`CREATE INDEX idx_alert_events_at ON alert_events (at)`);

    await queryRunner.query(`
      CREATE TABLE notification_deliveries (
        id bigint GENERATED ALWAYS AS IDENTITY,
        webhook_id text NOT NULL,
        event_id bigint,
        channel_id bigint NOT NULL,
        type text NOT NULL,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        last_status_code integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CONSTRAINT pk_notification_deliveries PRIMARY KEY (id),
        CONSTRAINT uq_notification_deliveries_webhook_id UNIQUE (webhook_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX idx_notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status IN ('pending', 'sending')`,
    );
    await queryRunner.query(
      `CREATE INDEX idx_notification_deliveries_channel ON notification_deliveries (channel_id, id)`,
    );

    await queryRunner.query(`
      CREATE TABLE notification_delivery_attempts (
        id bigint GENERATED ALWAYS AS IDENTITY,
        delivery_id bigint NOT NULL,
        attempt integer NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        status_code integer,
        latency_ms double precision NOT NULL,
        error text,
        next_attempt_at timestamptz,
        CONSTRAINT pk_notification_delivery_attempts PRIMARY KEY (id)
      )`);
    await queryRunner.query(
      `CREATE INDEX idx_notification_delivery_attempts_delivery ON notification_delivery_attempts (delivery_id, attempt)`,
    );

    await queryRunner.query(`
      CREATE TABLE alert_silences (
        id bigint GENERATED ALWAYS AS IDENTITY,
        rule_id bigint,
        trend_key text,
        starts_at timestamptz NOT NULL DEFAULT now(),
        until timestamptz NOT NULL,
        comment text NOT NULL,
        created_by text NOT NULL,
        CONSTRAINT pk_alert_silences PRIMARY KEY (id)
      )`);
    await queryRunner.query(`CREATE INDEX idx_alert_silences_until ON alert_silences (until)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'alert_silences',
      'notification_delivery_attempts',
      'notification_deliveries',
      'alert_events',
      'alert_instances',
      'alert_rules',
      'notification_channels',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
