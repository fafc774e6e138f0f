import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';
import { MetricsService } from '../metrics/metrics.service';

const READ_TIMEOUT_MS = 1000;

export interface WalArchiveStatus {
  /** archive_mode of the server: off means no WAL archiving (no point-in-time recovery). */
  archiveMode: string;
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedAt: string | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedAt: string | null;
  /** The latest attempt failed (last failure newer than the last success). */
  failing: boolean;
  statsResetAt: string | null;
}

/**
 * WAL archiving as PostgreSQL reports it (pg_stat_archiver, one row, cheap): for /health,
 * /monitoring/admin/database and the wal_archive_* metrics, which move on every read. The
 * archiver itself is the database operator's (pgBackRest, deploy/pgbackrest); the service
 * only watches it. PITR's RPO is the age of the last archived segment.
 */
@Injectable()
export class WalArchiveHealthIndicator {
  private readonly logger = new Logger(WalArchiveHealthIndicator.name);
  /** failed_count seen last, so the counter grows by the server's increments only. */
  private lastFailedCount: number | undefined;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  async read(): Promise<WalArchiveStatus> {
    const [row] = (await withTimeout(
      this.dataSource.query(
        `SELECT current_setting('archive_mode') AS "archiveMode", archived_count::int AS "archivedCount",
                last_archived_wal AS "lastArchivedWal", last_archived_time AS "lastArchivedAt",
                failed_count::int AS "failedCount", last_failed_wal AS "lastFailedWal",
                last_failed_time AS "lastFailedAt", stats_reset AS "statsResetAt"
         FROM pg_stat_archiver`,
      ),
      READ_TIMEOUT_MS,
      `pg_stat_archiver: no answer within ${READ_TIMEOUT_MS} ms`,
    )) as {
      archiveMode: string;
      archivedCount: number;
      lastArchivedWal: string | null;
      lastArchivedAt: Date | null;
      failedCount: number;
      lastFailedWal: string | null;
      lastFailedAt: Date | null;
      statsResetAt: Date | null;
    }[];
    this.updateMetrics(row.lastArchivedAt, row.failedCount);
    return {
      archiveMode: row.archiveMode,
      archivedCount: row.archivedCount,
      lastArchivedWal: row.lastArchivedWal,
      lastArchivedAt: row.lastArchivedAt?.toISOString() ?? null,
      failedCount: row.failedCount,
      lastFailedWal: row.lastFailedWal,
      lastFailedAt: row.lastFailedAt?.toISOString() ?? null,
      failing:
        row.lastFailedAt !== null &&
        (row.lastArchivedAt === null || row.lastFailedAt > row.lastArchivedAt),
      statsResetAt: row.statsResetAt?.toISOString() ?? null,
    };
  }

  /** For scrapes: never throws (a failed read leaves the metrics as they were). */
  async refreshMetrics(): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    await this.read().catch((error: Error) => {
      this.metrics.errors.inc({ service: 'metrics', type: 'wal_archive' });
      this.logger.warn(`pg_stat_archiver not read: ${error.message}`);
    });
  }

  private updateMetrics(lastArchivedAt: Date | null, failedCount: number): void {
    if (lastArchivedAt) this.metrics.walArchiveLastSuccess.set(lastArchivedAt.getTime() / 1000);
    // The server's count since its stats reset; a drop means a reset: start from there.
    const previous = this.lastFailedCount;
    if (previous === undefined || failedCount < previous) {
      if (previous === undefined && failedCount > 0)
        this.metrics.walArchiveFailures.inc(failedCount);
    } else if (failedCount > previous) {
      this.metrics.walArchiveFailures.inc(failedCount - previous);
    }
    this.lastFailedCount = failedCount;
  }

  /** /health: up unless the latest archive attempt failed; archiving off is reported, not an error. */
  async check(key = 'walArchive') {
    const indicator = this.indicators.check(key);
    try {
      const status = await this.read();
      if (status.archiveMode === 'off') return indicator.up({ archiveMode: 'off' });
      const details = {
        archiveMode: status.archiveMode,
        lastArchivedWal: status.lastArchivedWal,
        lastArchivedAt: status.lastArchivedAt,
        failedCount: status.failedCount,
        lastFailedAt: status.lastFailedAt,
      };
      if (status.failing)
        return indicator.down({
          ...details,
          message: `archiving ${status.lastFailedWal ?? 'WAL'} failed at ${status.lastFailedAt}`,
        });
      return indicator.up(details);
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
