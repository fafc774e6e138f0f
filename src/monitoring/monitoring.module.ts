import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CacheModule } from '../cache/cache.module';
import { CommonModule } from '../common/common.module';
import { DatabaseHealthIndicator } from './health/database.health';
import { DiskHealthIndicator } from './health/disk.health';
import { HealthController } from './health/health.controller';
import { HeapHealthIndicator } from './health/heap.health';
import { LifecycleHealthIndicator } from './health/lifecycle.health';
import { RedisHealthIndicator } from './health/redis.health';
import { ReplicasHealthIndicator } from './health/replicas.health';
import { WalArchiveHealthIndicator } from './health/wal-archive.health';
import { HttpMetrics } from './metrics/http-metrics';
import { IngestMetrics } from './metrics/ingest-metrics';
import { MetricsCollector } from './metrics/metrics-collector.service';
import { MetricsListener } from './metrics/metrics-listener.service';
import { MetricsController } from './metrics/metrics.controller';
import { MonitoringRepository } from './monitoring.repository';
import { MonitoringController } from './status/monitoring.controller';
import { MonitoringStatusService } from './status/monitoring-status.service';

/**
 * Health probes and report, the Prometheus endpoints (and the optional METRICS_PORT listener),
 * the request-duration hook, ingest counters and the admin views under /monitoring.
 * MetricsService itself lives in the global MetricsModule so every module can update it.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), CommonModule, CacheModule],
  controllers: [HealthController, MetricsController, MonitoringController],
  providers: [
    DatabaseHealthIndicator,
    LifecycleHealthIndicator,
    RedisHealthIndicator,
    ReplicasHealthIndicator,
    DiskHealthIndicator,
    HeapHealthIndicator,
    WalArchiveHealthIndicator,
    HttpMetrics,
    IngestMetrics,
    MetricsCollector,
    MetricsListener,
    MonitoringRepository,
    MonitoringStatusService,
  ],
  // The partition job refreshes the partition gauges through the collector, their one writer.
  exports: [MetricsCollector],
})
export class MonitoringModule {}
