import { Injectable } from '@nestjs/common';
import {
  Counter,
  Gauge,
  GaugeConfiguration,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

/**
 * Every application metric, in one place (SPEC §8). Modules inject this service and update
 * the metric they own; names carry units, counters end in _total, labels are bounded.
 * Each application instance has its own registry, so two apps in one process (tests) do not
 * clash.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly trendsProcessed = new Counter({
    name: 'trends_processed_total',
    help: 'Observations accepted (stored) by ingest',
    labelNames: ['platform'],
    registers: [this.registry],
  });

  readonly trendsDuplicates = new Counter({
    name: 'trends_duplicates_total',
    help: 'Ingested observations skipped as duplicates of the dedup key',
    registers: [this.registry],
  });

  readonly activeConnections = new Gauge({
    name: 'active_connections_current',
    help: 'Open connections per service (http, database pool)',
    labelNames: ['service'],
    registers: [this.registry],
  });

  readonly cacheHitRate = new Gauge({
    name: 'cache_hit_rate',
    help: 'Cache hits / (hits + misses) since start',
    registers: [this.registry],
  });

  readonly cacheOperations = new Counter({
    name: 'cache_operations_total',
    help: 'Cache operations by operation (get, set, invalidate, clear) and result (hit, miss, stale, bypass, error, ok, coalesced)',
    labelNames: ['operation', 'result'],
    registers: [this.registry],
  });

  readonly dbSlowQueries = new Counter({
    name: 'db_slow_queries_total',
    help: 'Database statements slower than DB_SLOW_QUERY_MS, by source (route template or job)',
    labelNames: ['source'],
    registers: [this.registry],
  });

  readonly apiResponseTime = new Histogram({
    name: 'api_response_time_seconds',
    help: 'HTTP response time by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'errors_total',
    help: 'Errors by service (http, database, cache, backup, jobs) and type',
    labelNames: ['service', 'type'],
    registers: [this.registry],
  });

  readonly jobRuns = new Counter({
    name: 'job_runs_total',
    help: 'Job runs by job and status (succeeded, failed, skipped_locked)',
    labelNames: ['job', 'status'],
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Duration of job runs',
    labelNames: ['job'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly jobLastSuccess = new Gauge({
    name: 'job_last_success_timestamp_seconds',
    help: 'Unix time of the last successful run per job',
    labelNames: ['job'],
    registers: [this.registry],
  });

  readonly backupLastSuccess = new Gauge({
    name: 'backup_last_success_timestamp_seconds',
    help: 'Unix time of the last successful backup',
    registers: [this.registry],
  });

  readonly backupLastVerified = new Gauge({
    name: 'backup_last_verified_timestamp_seconds',
    help: 'Unix time of the last successful backup verification',
    registers: [this.registry],
  });

  readonly backupSize = new Gauge({
    name: 'backup_size_bytes',
    help: 'Size of the last successful backup file',
    registers: [this.registry],
  });

  readonly backupDuration = new Histogram({
    name: 'backup_duration_seconds',
    help: 'Duration of backups',
    buckets: [1, 5, 15, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly backupOffsiteLastSuccess = new Gauge({
    name: 'backup_offsite_last_success_timestamp_seconds',
    help: 'Unix time of the last checked upload of a backup to off-site (S3) storage',
    registers: [this.registry],
  });

  readonly backupOffsiteFailures = new Counter({
    name: 'backup_offsite_failures_total',
    help: 'Failed off-site uploads, checks, downloads or deletions of backups',
    registers: [this.registry],
  });

  readonly backupLastRestoreDuration = new Gauge({
    name: 'backup_last_restore_duration_seconds',
    help: 'How long the scratch restore of the last successful verification took (measured RTO)',
    registers: [this.registry],
  });

  readonly walArchiveLastSuccess = new Gauge({
    name: 'wal_archive_last_success_timestamp_seconds',
    help: 'Unix time of the last WAL segment archived (pg_stat_archiver.last_archived_time)',
    registers: [this.registry],
  });

  readonly walArchiveFailures = new Counter({
    name: 'wal_archive_failures_total',
    help: 'Failed WAL archive attempts (pg_stat_archiver.failed_count, as seen by this process)',
    registers: [this.registry],
  });

  /** Exposed as `untyped`: the seed's name ends in _count, which promtool rejects on a gauge. */
  readonly partitionsCount = new UntypedGauge({
    name: 'partitions_count',
    help: 'Partitions per partitioned table (excluding DEFAULT)',
    labelNames: ['table'],
    registers: [this.registry],
  });

  readonly partitionsPremadeAhead = new Gauge({
    name: 'partitions_premade_ahead',
    help: 'Partitions that exist beyond the current period',
    labelNames: ['table'],
    registers: [this.registry],
  });

  readonly defaultPartitionRows = new Gauge({
    name: 'default_partition_rows',
    help: 'Rows waiting in the DEFAULT partition (should be 0)',
    labelNames: ['table'],
    registers: [this.registry],
  });

  readonly dbPool = new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state (total, idle, waiting clients)',
    labelNames: ['state'],
    registers: [this.registry],
  });

  readonly dbStatsAge = new Gauge({
    name: 'db_stats_age_seconds',
    help: 'Age of the database-derived gauges (partitions_*, default_partition_rows) at scrape time',
    registers: [this.registry],
  });

  readonly streamConnections = new Gauge({
    name: 'stream_connections_current',
    help: 'Open live-stream (SSE) connections on this replica',
    registers: [this.registry],
  });

  readonly streamEvents = new Counter({
    name: 'stream_events_total',
    help: 'Live-stream events written to clients of this replica, by type (ingest, top, alert, heartbeat, reset)',
    labelNames: ['type'],
    registers: [this.registry],
  });

  readonly streamEventsDropped = new Counter({
    name: 'stream_events_dropped_total',
    help: 'Live-stream events dropped for clients that did not read fast enough (oldest ingest/top first; alerts never)',
    labelNames: ['type'],
    registers: [this.registry],
  });

  readonly dbReplicaLag = new Gauge({
    name: 'db_replica_lag_seconds',
    help: 'Replay lag of each read replica at its last health check (absent while it is down)',
    labelNames: ['replica'],
    registers: [this.registry],
  });

  readonly dbReplicaUp = new Gauge({
    name: 'db_replica_up',
    help: 'Whether each read replica answered its last health check (1) or not (0)',
    labelNames: ['replica'],
    registers: [this.registry],
  });

  readonly dbReads = new Counter({
    name: 'db_reads_total',
    help: 'Query-endpoint reads by target (primary, replica) and reason the target was chosen',
    labelNames: ['target', 'reason'],
    registers: [this.registry],
  });

  readonly alertEvaluations = new Counter({
    name: 'alert_evaluations_total',
    help: 'Alert rule evaluations by result (ok, error)',
    labelNames: ['result'],
    registers: [this.registry],
  });

  readonly alertEvaluationDuration = new Histogram({
    name: 'alert_evaluation_duration_seconds',
    help: 'Duration of one alert rule evaluation (query, state machine, outbox rows)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly alertsFiring = new Gauge({
    name: 'alerts_firing',
    help: 'Series firing (or recovering) by rule severity (refreshed every 15 s and after each evaluation)',
    labelNames: ['severity'],
    registers: [this.registry],
  });

  readonly alertNotifications = new Counter({
    name: 'alert_notifications_total',
    help: 'Notification delivery attempts by channel type and result (success, retry, failed, gone, suppressed)',
    labelNames: ['channel_type', 'result'],
    registers: [this.registry],
  });

  readonly webhookDeliveryDuration = new Histogram({
    name: 'webhook_delivery_duration_seconds',
    help: 'Duration of one webhook POST (connect to response end)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // These three prom-client gauges end in _total, which `promtool check metrics` rejects for
    // non-counters; the per-type nodejs_active_{handles,requests,resources} gauges carry the
    // same information (sum them).
    for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
  }
}

/**
 * A gauge announced as `# TYPE … untyped`. Prometheus stores and queries it exactly like a
 * gauge; promtool's suffix rules apply only to typed metrics.
 */
class UntypedGauge<T extends string> extends Gauge<T> {
  constructor(config: GaugeConfiguration<T>) {
    super(config);
    (this as unknown as { type: string }).type = 'untyped';
  }
}

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];
