import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorResult } from '@nestjs/terminus';
import { IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { LifecycleService } from '../../common/lifecycle.service';
import { DatabaseHealthIndicator } from '../health/database.health';
import { DiskHealthIndicator } from '../health/disk.health';
import { HeapHealthIndicator } from '../health/heap.health';
import { RedisHealthIndicator } from '../health/redis.health';
import { WalArchiveHealthIndicator } from '../health/wal-archive.health';
import { IngestMetrics } from '../metrics/ingest-metrics';
import { MetricsCollector } from '../metrics/metrics-collector.service';
import { MetricsService } from '../metrics/metrics.service';
import { MonitoringRepository } from '../monitoring.repository';
import { SERVICE_VERSION } from '../../common/version';
import { ReadReplicasService } from '../../database/read-replicas.service';

/** Admin status queries run under this statement timeout. */
const STATUS_QUERY_TIMEOUT_MS = 5000;
const NS_PER_MS = 1e6;

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The admin views of /monitoring/*: status, trend freshness, database, memory. */
@Injectable()
export class MonitoringStatusService implements OnModuleDestroy {
  private readonly startedAt = new Date();
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private loopDelaySince = new Date();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly lifecycle: LifecycleService,
    private readonly databaseHealth: DatabaseHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly disk: DiskHealthIndicator,
    private readonly heap: HeapHealthIndicator,
    private readonly ingest: IngestMetrics,
    private readonly metrics: MetricsService,
    private readonly collector: MetricsCollector,
    private readonly repository: MonitoringRepository,
    private readonly replicas: ReadReplicasService,
    private readonly walArchive: WalArchiveHealthIndicator,
  ) {
    this.loopDelay.enable();
  }

  onModuleDestroy(): void {
    this.loopDelay.disable();
  }

  async status() {
    const [database, redis, backupDisk] = await Promise.all([
      this.databaseHealth.check('database', true),
      this.redis.check('redis'),
      this.disk.check('backupDisk'),
    ]);
    const components: HealthIndicatorResult = {
      ...database,
      ...redis,
      ...backupDisk,
      ...this.heap.check('heap'),
    };
    const lastJobRuns =
      database.database.status === 'up'
        ? await this.repository.lastJobRuns(STATUS_QUERY_TIMEOUT_MS).catch(() => null)
        : null;
    const hitRate = (await this.metrics.cacheHitRate.get()).values[0]?.value ?? null;
    return {
      service: 'trend-service',
      version: SERVICE_VERSION,
      phase: this.lifecycle.phase,
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.round(process.uptime()),
      components,
      ingest: {
        ratePerSecond: this.ingest.ratePerSecond(),
        windowSeconds: 300,
        scope: 'this replica',
      },
      cache: { hitRate },
      lastJobRuns,
    };
  }

  async trendsStatus(now = new Date()) {
    const platforms = await this.repository.platformActivity(now, STATUS_QUERY_TIMEOUT_MS);
    return {
      at: now.toISOString(),
      platforms: platforms.map((p) => ({
        platform: p.platform,
        lastObservedAt: p.lastObservedAt?.toISOString() ?? null,
        lastIngestedAt: p.lastIngestedAt?.toISOString() ?? null,
        lastHour: { observations: p.lastHourObservations, mentions: p.lastHourMentions },
        ingestLagSeconds: p.lastObservedAt
          ? round((now.getTime() - p.lastObservedAt.getTime()) / 1000)
          : null,
        avgArrivalDelaySeconds:
          p.avgArrivalDelaySeconds === null ? null : round(p.avgArrivalDelaySeconds),
      })),
    };
  }

  async databaseInfo() {
    await this.collector.update();
    const server = await this.repository.serverInfo(STATUS_QUERY_TIMEOUT_MS);
    const target = this.config.db;
    return {
      connection: {
        mode: target.mode,
        // Host, port, name and user only: never the password or a URL that may embed it.
        host:
          target.mode === 'embedded'
            ? '127.0.0.1'
            : target.url
              ? new URL(target.url).hostname
              : target.host,
        database: server.database,
        user: target.url ? decodeURIComponent(new URL(target.url).username) : target.user,
        ssl: target.ssl,
      },
      pool: this.collector.poolFigures(),
      // Read replicas (SPEC §14): host, port, database, user, health, lag, pool figures.
      readPools: this.replicas.status(),
      serverVersion: server.serverVersion,
      sizeBytes: server.sizeBytes,
      partitions: this.collector.partitionStats,
      // pg_stat_archiver: last archived WAL and time, failures (SPEC §15).
      walArchive: await this.walArchive.read().catch((error: Error) => ({ error: error.message })),
    };
  }

  memory() {
    const usage = process.memoryUsage();
    const since = this.loopDelaySince;
    const lag = {
      sinceLastCall: since.toISOString(),
      minMs: round(this.loopDelay.min / NS_PER_MS),
      meanMs: round(this.loopDelay.mean / NS_PER_MS),
      p50Ms: round(this.loopDelay.percentile(50) / NS_PER_MS),
      p99Ms: round(this.loopDelay.percentile(99) / NS_PER_MS),
      maxMs: round(this.loopDelay.max / NS_PER_MS),
    };
    // Each call reports the lag since the previous one.
    this.loopDelay.reset();
    this.loopDelaySince = new Date();
    return { memoryUsage: usage, heapStatistics: getHeapStatistics(), eventLoopLag: lag };
  }
}
