import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';
import { MonitoringRepository, PartitionStats } from '../monitoring.repository';
import { HttpMetrics } from './http-metrics';
import { WalArchiveHealthIndicator } from '../health/wal-archive.health';
import { MetricsService } from './metrics.service';

/** Database-derived gauges are re-read at most this often, whatever the scrape interval. */
export const DB_STATS_MAX_AGE_MS = 15_000;
/** A scrape never waits longer than this for the database (older values are served instead). */
export const DB_STATS_TIMEOUT_MS = 2_000;

export interface PoolFigures {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/**
 * Brings the scrape-time gauges up to date and renders the registry. In-process figures (open
 * HTTP sockets, pool counts) are read on every scrape; partition figures come from catalog
 * queries at most every 15 s, single-flight and under a timeout, so scrapes cannot pile
 * queries onto a slow database.
 */
@Injectable()
export class MetricsCollector {
  private readonly logger = new Logger(MetricsCollector.name);
  private statsAt = 0;
  private refreshing?: Promise<void>;
  private latest: PartitionStats[] = [];

  constructor(
    private readonly metrics: MetricsService,
    private readonly http: HttpMetrics,
    private readonly repository: MonitoringRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly walArchive: WalArchiveHealthIndicator,
  ) {}

  get contentType(): string {
    return this.metrics.registry.contentType;
  }

  async render(): Promise<string> {
    await this.update();
    return this.metrics.registry.metrics();
  }

  async update(): Promise<void> {
    this.metrics.activeConnections.set({ service: 'http' }, await this.http.openConnections());
    const pool = this.poolFigures();
    this.metrics.activeConnections.set({ service: 'database' }, pool.total);
    this.metrics.dbPool.set({ state: 'total' }, pool.total);
    this.metrics.dbPool.set({ state: 'idle' }, pool.idle);
    this.metrics.dbPool.set({ state: 'waiting' }, pool.waiting);

    if (Date.now() - this.statsAt > DB_STATS_MAX_AGE_MS) await this.refreshStats();
    // One cheap row under a 1 s timeout: read on every scrape so the RPO gauge is current.
    await this.walArchive.refreshMetrics();
    if (this.statsAt > 0) this.metrics.dbStatsAge.set((Date.now() - this.statsAt) / 1000);
  }

  /**
   * Re-reads the partition gauges now, for a caller that just changed partitions (the
   * partition job), so the change shows at the next scrape. Never throws.
   */
  async refreshPartitionStats(): Promise<void> {
    // A refresh already under way may have read the catalogue before the caller's change.
    await this.refreshing?.catch(() => undefined);
    await this.refreshStats();
  }

  /** Single-flight and under DB_STATS_TIMEOUT_MS; on failure the older values stay. */
  private async refreshStats(): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    this.refreshing ??= this.refreshDatabaseStats().finally(() => (this.refreshing = undefined));
    await withTimeout(this.refreshing, DB_STATS_TIMEOUT_MS, 'database stats timed out').catch(
      (error: Error) => {
        this.metrics.errors.inc({ service: 'metrics', type: 'db_stats' });
        this.logger.warn(`partition gauges not refreshed: ${error.message}`);
      },
    );
  }

  /** Partition figures as of the last refresh (empty before the first one). */
  get partitionStats(): PartitionStats[] {
    return this.latest;
  }

  poolFigures(): PoolFigures {
    const pool = this.dataSource.isInitialized
      ? // PostgresDriver's public `master` field is its pg pool (the class is not exported).
        (this.dataSource.driver as unknown as { master?: Pool }).master
      : undefined;
    return {
      total: pool?.totalCount ?? 0,
      idle: pool?.idleCount ?? 0,
      waiting: pool?.waitingCount ?? 0,
      max: pool?.options.max ?? 0,
    };
  }

  private async refreshDatabaseStats(): Promise<void> {
    const stats = await this.repository.partitionStats(new Date(), DB_STATS_TIMEOUT_MS);
    for (const table of stats) {
      this.metrics.partitionsCount.set({ table: table.table }, table.count);
      this.metrics.partitionsPremadeAhead.set({ table: table.table }, table.premadeAhead);
      this.metrics.defaultPartitionRows.set({ table: table.table }, table.defaultRows);
    }
    this.latest = stats;
    this.statsAt = Date.now();
  }
}
