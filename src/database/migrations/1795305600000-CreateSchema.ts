import { MigrationInterface, QueryRunner } from 'typeorm';
import { ensurePartitions } from '../partitions';

/**
 * The initial schema (SPEC §3): partitioned observations and rollups, the trend catalogue,
 * and the operational tables. Partition DDL is explicit; the current month/year and three
 * periods ahead are created here so a freshly migrated database accepts data at once.
 */
export class CreateSchema1795305600000 implements MigrationInterface {
  name = 'CreateSchema1795305600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE trend_observations (
        id bigint GENERATED ALWAYS AS IDENTITY,
        platform text NOT NULL,
        region text NOT NULL,
        trend_key text NOT NULL,
        display_name text NOT NULL,
        observed_at timestamptz NOT NULL,
        mentions bigint NOT NULL,
        engagement bigint NOT NULL DEFAULT 0,
        sentiment real,
        source_id text,
        metadata jsonb,
        ingested_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_trend_observations PRIMARY KEY (id, observed_at),
        -- Leading trend_key: the dedup index also serves per-trend lookups (minute series).
        CONSTRAINT uq_trend_observations_dedup UNIQUE (trend_key, platform, region, observed_at)
      ) PARTITION BY RANGE (observed_at)`);
    await queryRunner.query(
      `CREATE TABLE trend_observations_default PARTITION OF trend_observations DEFAULT`,
    );
    await queryRunner.query(
      `CREATE INDEX idx_trend_observations_time_brin ON trend_observations USING brin (observed_at)`,
    );

    // Hourly rollups are partitioned monthly, daily rollups yearly (see partitions.ts). Sums are
    // exact integers; sentiment is kept as the mention-weighted sum and the mentions that
    // carried a sentiment, so averages over any set of buckets stay exact.
    for (const table of ['trend_rollups_hourly', 'trend_rollups_daily']) {
      await queryRunner.query(`
        CREATE TABLE ${table} (
          bucket timestamptz NOT NULL,
          platform text NOT NULL,
          region text NOT NULL,
          trend_key text NOT NULL,
          mentions bigint NOT NULL,
          engagement bigint NOT NULL,
          samples bigint NOT NULL,
          sentiment_weighted_sum double precision NOT NULL DEFAULT 0,
          sentiment_mentions bigint NOT NULL DEFAULT 0,
          CONSTRAINT pk_${table} PRIMARY KEY (bucket, platform, region, trend_key)
        ) PARTITION BY RANGE (bucket)`);
      await queryRunner.query(
        `CREATE TABLE ${table}_default PARTITION OF ${table} DEFAULT WITH (fillfactor = 70)`,
      );
      await queryRunner.query(`CREATE INDEX idx_${table}_key ON ${table} (trend_key, bucket)`);
    }

    await queryRunner.query(`
      CREATE TABLE trend_catalog (
        trend_key text NOT NULL,
        display_name text NOT NULL,
        first_seen_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        CONSTRAINT pk_trend_catalog PRIMARY KEY (trend_key)
      ) WITH (fillfactor = 70)`);
    await queryRunner.query(
      `CREATE INDEX idx_trend_catalog_prefix ON trend_catalog (trend_key text_pattern_ops)`,
    );

    await queryRunner.query(`
      CREATE TABLE retention_policies (
        table_name text NOT NULL,
        keep_days integer NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text,
        CONSTRAINT pk_retention_policies PRIMARY KEY (table_name)
      )`);
    await queryRunner.query(`
      INSERT INTO retention_policies (table_name, keep_days) VALUES
        ('trend_observations', 90),
        ('trend_rollups_hourly', 400),
        ('trend_rollups_daily', 1825),
        ('job_runs', 365),
        ('admin_audit_log', 365)`);

    await queryRunner.query(`
      CREATE TABLE job_runs (
        id bigint GENERATED ALWAYS AS IDENTITY,
        job text NOT NULL,
        trigger text NOT NULL,
        status text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        details jsonb,
        error text,
        CONSTRAINT pk_job_runs PRIMARY KEY (id)
      )`);
    await queryRunner.query(`CREATE INDEX idx_job_runs_job_started ON job_runs (job, started_at)`);
    await queryRunner.query(`CREATE INDEX idx_job_runs_started ON job_runs (started_at)`);

    await queryRunner.query(`
      CREATE TABLE backups (
        id text NOT NULL,
        file text NOT NULL,
        size_bytes bigint,
        sha256 text,
        status text NOT NULL,
        encrypted boolean NOT NULL DEFAULT false,
        trigger text NOT NULL DEFAULT 'api',
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        verified_at timestamptz,
        deleted_at timestamptz,
        error text,
        manifest jsonb,
        CONSTRAINT pk_backups PRIMARY KEY (id)
      )`);
    await queryRunner.query(`CREATE INDEX idx_backups_started ON backups (started_at)`);

    await queryRunner.query(`
      CREATE TABLE admin_audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY,
        actor text NOT NULL,
        action text NOT NULL,
        target text,
        at timestamptz NOT NULL DEFAULT now(),
        details jsonb,
        CONSTRAINT pk_admin_audit_log PRIMARY KEY (id)
      )`);
    await queryRunner.query(`CREATE INDEX idx_admin_audit_log_at ON admin_audit_log (at)`);

    await ensurePartitions(queryRunner, new Date(), 3);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Dropping a partitioned parent drops its partitions.
    for (const table of [
      'admin_audit_log',
      'backups',
      'job_runs',
      'retention_policies',
      'trend_catalog',
      'trend_rollups_daily',
      'trend_rollups_hourly',
      'trend_observations',
    ]) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
