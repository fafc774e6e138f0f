import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../../auth/roles';
import { DatabaseHealthIndicator } from './database.health';
import { LifecycleHealthIndicator } from './lifecycle.health';

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
  ) {}

  @Get(['health/live', 'monitoring/health/live'])
  @ApiOperation({ summary: 'Liveness: 200 while the process serves requests (checks no dependency)' })
  live() {
    return { status: 'ok' };
  }

  @Get(['health/ready', 'monitoring/health/ready'])
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: database answers and migrations applied; 503 while starting/stopping' })
  ready() {
    return this.health.check([() => this.lifecycle.check(), () => this.database.check('database', true)]);
  }

  @Get(['health', 'monitoring/health'])
  @HealthCheck()
  @ApiOperation({ summary: 'Health report of every dependency' })
  report() {
    return this.health.check([() => this.database.check('database')]);
  }
}
