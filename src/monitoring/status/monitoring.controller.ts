import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../auth/roles';
import { MonitoringStatusService } from './monitoring-status.service';

/** The seed's admin views under /monitoring (the cache view is served by the cache module). */
@ApiTags('monitoring')
@ApiBearerAuth()
@Roles('admin')
@Controller('monitoring')
export class MonitoringController {
  constructor(private readonly status: MonitoringStatusService) {}

  @Get('status')
  @ApiOperation({
    summary: 'Version, uptime, components up/down, ingest rate, cache hit rate, last job runs',
  })
  overview() {
    return this.status.status();
  }

  @Get('trends/status')
  @ApiOperation({ summary: 'Per platform: last observation, last-hour volume, ingest lag' })
  trends() {
    return this.status.trendsStatus();
  }

  @Get('admin/database')
  @ApiOperation({
    summary:
      'Pool figures (also of each read replica), server version, database size, partitions (never credentials)',
  })
  database() {
    return this.status.databaseInfo();
  }

  @Get('admin/memory')
  @ApiOperation({
    summary: 'process.memoryUsage, V8 heap statistics, event-loop lag since the previous call',
  })
  memory() {
    return this.status.memory();
  }
}
