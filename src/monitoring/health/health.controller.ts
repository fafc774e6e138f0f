import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorFunction } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../../auth/roles';
import { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { DatabaseHealthIndicator } from './database.health';
import { DiskHealthIndicator } from './disk.health';
import { composeReport } from './health-report';
import { HeapHealthIndicator } from './heap.health';
import { LifecycleHealthIndicator } from './lifecycle.health';
import { RedisHealthIndicator } from './redis.health';
import { WalArchiveIndicator } from './wal-archive.health';

/** Kubernetes probes and the Terminus report; the /monitoring/* paths are the seed's mirrors. */
@ApiTags('health')
@Public()
@SkipThrottle()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly lifecycle: LifecycleHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly disk: DiskHealthIndicator,
    private readonly heap: HeapHealthIndicator,
    private readonly walArchive: WalArchiveIndicator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(['health/live', 'monitoring/health/live'])
  @ApiOperation({
    summary: 'Liveness: 200 while the process serves requests (checks no dependency)',
  })
  live() {
    return { status: 'ok' };
  }

  @Get(['health/ready', 'monitoring/health/ready'])
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: database answers and migrations applied (and Redis when REDIS_REQUIRED); 503 while starting/stopping',
  })
  ready() {
    const checks: HealthIndicatorFunction[] = [
      () => this.lifecycle.check(),
      () => this.database.check('database', true),
    ];
    if (this.config.redis.required) checks.push(() => this.redis.check('redis'));
    return this.health.check(checks);
  }

  @Get(['health', 'monitoring/health'])
  @ApiOperation({
    summary:
      'Health report: database (latency), redis, backup-disk space, heap, WAL archiving; 503 when a required check fails',
  })
  async report() {
    const report = await composeReport([
      { key: 'database', required: true, run: () => this.database.check('database') },
      { key: 'redis', required: this.config.redis.required, run: () => this.redis.check('redis') },
      { key: 'backupDisk', required: true, run: () => this.disk.check('backupDisk') },
      { key: 'heap', required: true, run: () => this.heap.check('heap') },
      // PITR's WAL archiving (SPEC §15): reported, but the service itself still works.
      { key: 'walArchive', required: false, run: () => this.walArchive.check('walArchive') },
    ]);
    if (report.status !== 'ok') throw new ServiceUnavailableException(report);
    return report;
  }
}
