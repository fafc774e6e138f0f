import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrorResponses } from '../../common/openapi';
import { HealthReportDto, LiveDto } from '../dto/monitoring-response.dto';
import { HealthCheck, HealthCheckService, HealthIndicatorFunction } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../../auth/roles';
import { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { DatabaseHealthIndicator } from './database.health';
import { DiskHealthIndicator } from './disk.health';
import { composeReport, HealthReport, plainReadiness } from './health-report';
import { HeapHealthIndicator } from './heap.health';
import { LifecycleHealthIndicator } from './lifecycle.health';
import { RedisHealthIndicator } from './redis.health';
import { ReplicasHealthIndicator } from './replicas.health';
import { WalArchiveHealthIndicator } from './wal-archive.health';

/** Kubernetes probes and the Terminus report; the /monitoring/* paths are the seed's mirrors. */
@ApiTags('health')
@Public()
@SkipThrottle()
@ApiErrorResponses([400, 'Malformed URL'])
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly lifecycle: LifecycleHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly disk: DiskHealthIndicator,
    private readonly heap: HeapHealthIndicator,
    private readonly replicas: ReplicasHealthIndicator,
    private readonly walArchive: WalArchiveHealthIndicator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(['health/live', 'monitoring/health/live'])
  @ApiOperation({
    summary: 'Liveness: 200 while the process serves requests (checks no dependency)',
    security: [],
  })
  @ApiOkResponse({ type: LiveDto })
  live() {
    return { status: 'ok' };
  }

  @Get(['health/ready', 'monitoring/health/ready'])
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: database answers and migrations applied (and Redis when REDIS_REQUIRED); 503 while starting/stopping',
    security: [],
  })
  @ApiOkResponse({ type: HealthReportDto })
  @ApiServiceUnavailableResponse({
    type: HealthReportDto,
    description: 'Starting, stopping, or the database is down; `error` lists the failed checks',
  })
  async ready() {
    const checks: HealthIndicatorFunction[] = [
      () => this.lifecycle.check(),
      () => this.database.check('database', true),
    ];
    if (this.config.redis.required) checks.push(() => this.redis.check('redis'));
    try {
      return await this.health.check(checks);
    } catch (error) {
      // The open probe gets plain reasons; driver errors (addresses, ports) stay on /health.
      if (error instanceof ServiceUnavailableException) {
        throw new ServiceUnavailableException(
          plainReadiness(error.getResponse() as Partial<HealthReport>),
        );
      }
      throw error;
    }
  }

  @Get(['health', 'monitoring/health'])
  @ApiOperation({
    summary:
      'Health report: database (latency), redis, backup-disk space, heap, read replicas (up, lag), WAL archiving; 503 when a required check fails',
    security: [],
  })
  @ApiOkResponse({ type: HealthReportDto })
  @ApiServiceUnavailableResponse({
    type: HealthReportDto,
    description: 'A required check failed; `error` lists the failed checks',
  })
  async report() {
    const report = await composeReport([
      { key: 'database', required: true, run: () => this.database.check('database') },
      { key: 'redis', required: this.config.redis.required, run: () => this.redis.check('redis') },
      { key: 'backupDisk', required: true, run: () => this.disk.check('backupDisk') },
      { key: 'heap', required: true, run: () => this.heap.check('heap') },
      // Listed only when configured; never required (a replica down costs no error, §14).
      ...(this.replicas.configured
        ? [{ key: 'readReplicas', required: false, run: () => this.replicas.check('readReplicas') }]
        : []),
      // PITR's WAL archiving (SPEC §15): reported, but the service itself still works.
      { key: 'walArchive', required: false, run: () => this.walArchive.check('walArchive') },
    ]);
    if (report.status !== 'ok') throw new ServiceUnavailableException(report);
    return report;
  }
}
