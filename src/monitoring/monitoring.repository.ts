import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import {
  PARTITIONED_TABLES,
  addPeriods,
  listPartitions,
  periodStart,
} from '../database/partitions';
import { quoteStrictIdent } from '../database/identifiers';
import { withSession } from '../database/session';

/** Counting rows of a DEFAULT partition stops here: the alert only needs "some", not "how many". */
export const DEFAULT_ROWS_CAP = 100_000;

/** One partition as /monitoring/admin/database shows it (null bounds for DEFAULT). */
export interface PartitionSummary {
  name: string;
  from: Date | null;
  to: Date | null;
  isDefault: boolean;
  estimatedRows: number;
  bytes: number;
}

export interface PartitionStats {
  table: string;
  /** Partitions excluding DEFAULT. */
  count: number;
  /** Partitions whose range starts after the current period. */
  premadeAhead: number;
  /** Rows in the DEFAULT partition, counted up to DEFAULT_ROWS_CAP. */
  defaultRows: number;
  partitions: PartitionSummary[];
}

export interface JobRunSummary {
  job: string;
  status: string;
  trigger: string;
  startedAt: Date;
  finishedAt: Date | null;
  error: string | null;
}

export interface PlatformActivity {
  platform: string;
  lastObservedAt: Date | null;
  lastIngestedAt: Date | null;
  lastHourObservations: number;
  lastHourMentions: number;
  avgArrivalDelaySeconds: number | null;
}

/**
 * The monitoring module's SQL: catalog lookups (pg_inherits, pg_class) and small bounded reads.
 * Every method runs in its own transaction under a local statement_timeout, so a slow or
 * locked database makes a scrape or a status call fail fast instead of piling up.
 */
@Injectable()
export class MonitoringRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** `work` in its own transaction under a local statement_timeout of `timeoutMs`. */
  private bounded<T>(timeoutMs: number, work: (db: QueryRunner) => Promise<T>): Promise<T> {
    return withSession(this.dataSource, { transaction: true, statementTimeoutMs: timeoutMs }, work);
  }

  partitionStats(now: Date, timeoutMs: number): Promise<PartitionStats[]> {
    return this.bounded(timeoutMs, async (manager) => {
      const all = await listPartitions(manager);
      const stats: PartitionStats[] = [];
      for (const spec of PARTITIONED_TABLES) {
        const own = all.filter((p) => p.table === spec.table);
        const ranged = own.filter((p) => !p.isDefault);
        const nextPeriod = addPeriods(periodStart(now, spec.period), spec.period, 1).getTime();
        const fallback = own.find((p) => p.isDefault);
        let defaultRows = 0;
        if (fallback) {
          const counted = (await manager.query(
            `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${quoteStrictIdent(fallback.partition)} LIMIT ${DEFAULT_ROWS_CAP}) capped`,
          )) as { n: number }[];
          defaultRows = counted[0].n;
        }
        stats.push({
          table: spec.table,
          count: ranged.length,
          premadeAhead: ranged.filter((p) => p.from !== null && p.from.getTime() >= nextPeriod)
            .length,
          defaultRows,
          partitions: own.map(({ partition, from, to, isDefault, estimatedRows, bytes }) => ({
            name: partition,
            from,
            to,
            isDefault,
            estimatedRows,
            bytes,
          })),
        });
      }
      return stats;
    });
  }

  serverInfo(
    timeoutMs: number,
  ): Promise<{ serverVersion: string; database: string; sizeBytes: number }> {
    return this.bounded(timeoutMs, async (manager) => {
      const rows = (await manager.query(
        `SELECT current_setting('server_version') AS "serverVersion", current_database() AS database,
                pg_database_size(current_database())::float8 AS "sizeBytes"`,
      )) as { serverVersion: string; database: string; sizeBytes: number }[];
      return rows[0];
    });
  }

  /** The latest run of every job (job_runs is trimmed by retention, and indexed on job, started_at). */
  lastJobRuns(timeoutMs: number): Promise<JobRunSummary[]> {
    return this.bounded(
      timeoutMs,
      (manager) =>
        manager.query(
          `SELECT DISTINCT ON (job) job, status, trigger, started_at AS "startedAt",
                finished_at AS "finishedAt", error
           FROM job_runs ORDER BY job, started_at DESC`,
        ) as Promise<JobRunSummary[]>,
    );
  }

  /**
   * Per platform: the last observation and the last hour's volume. The latest hourly rollup
   * bucket (30 days back at most) narrows the raw lookup to one hour of one platform.
   */
  platformActivity(now: Date, timeoutMs: number): Promise<PlatformActivity[]> {
    return this.bounded(
      timeoutMs,
      (manager) =>
        manager.query(
          `WITH latest AS (
           SELECT platform, max(bucket) AS bucket
             FROM trend_rollups_hourly
            WHERE bucket >= $1::timestamptz - interval '30 days' AND bucket <= $1::timestamptz
            GROUP BY platform),
         last_hour AS (
           SELECT platform, count(*)::float8 AS n, sum(mentions)::float8 AS mentions,
                  avg(extract(epoch FROM ingested_at - observed_at))::float8 AS delay
             FROM trend_observations
            WHERE observed_at >= $1::timestamptz - interval '1 hour' AND observed_at < $1::timestamptz
            GROUP BY platform)
         SELECT l.platform,
                edge."lastObservedAt", edge."lastIngestedAt",
                coalesce(h.n, 0) AS "lastHourObservations",
                coalesce(h.mentions, 0) AS "lastHourMentions",
                h.delay AS "avgArrivalDelaySeconds"
           FROM latest l
           LEFT JOIN last_hour h ON h.platform = l.platform
           CROSS JOIN LATERAL (
             SELECT max(o.observed_at) AS "lastObservedAt", max(o.ingested_at) AS "lastIngestedAt"
               FROM trend_observations o
              WHERE o.platform = l.platform AND o.observed_at >= l.bucket
                AND o.observed_at < l.bucket + interval '1 hour') edge
          ORDER BY l.platform`,
          [now.toISOString()],
        ) as Promise<PlatformActivity[]>,
    );
  }
}
