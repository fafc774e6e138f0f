import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthErrors } from '../../common/openapi';
import {
  DatabaseInfoDto,
  MemoryDto,
  StatusDto,
  TrendsStatusDto,
} from '../dto/monitoring-response.dto';
import { Roles } from '../../auth/roles';
import { MonitoringStatusService } from './monitoring-status.service';

/** The seed's admin views under /monitoring (the cache view is served by the cache module). */
@ApiTags('monitoring')
@ApiBearerAuth()
@ApiAuthErrors()
@Roles('admin')
@Controller('monitoring')
export class MonitoringController {
  constructor(private readonly status: MonitoringStatusService) {}

  @Get('status')
  @ApiOperation({
    summary: 'Version, uptime, components up/down, ingest rate, cache hit rate, last job runs',
  })
  @ApiOkResponse({ type: StatusDto })
  overview() {
    return this.status.status();
  }

  @Get('trends/status')
  @ApiOperation({ summary: 'Per platform: last observation, last-hour volume, ingest lag' })
  @ApiOkResponse({ type: TrendsStatusDto })
  trends() {
    return this.status.trendsStatus();
  }

  @Get('admin/database')
  @ApiOperation({
    summary:
      'Pool figures (also of each read replica), server version, database size, partitions (never credentials)',
  })
  @ApiOkResponse({ type: DatabaseInfoDto })
  database() {
    return this.status.databaseInfo();
  }

  @Get('admin/memory')
  @ApiOperation({
    summary: 'process.memoryUsage, V8 heap statistics, event-loop lag since the previous call',
  })
  @ApiOkResponse({ type: MemoryDto })
  memory() {
    return this.status.memory();
  }
}
