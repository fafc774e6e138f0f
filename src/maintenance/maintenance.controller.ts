import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthErrors, ApiErrorResponses } from '../common/openapi';
import { IndexesDto, MaintenanceRunDto, StatementReportDto } from './dto/maintenance-response.dto';
import { AuditService } from '../audit/audit.service';
import { AuthUser, CurrentUser, Roles } from '../auth/roles';
import { RunMaintenanceQueryDto, StatementsQueryDto } from './dto/run-maintenance.dto';
import { MaintenanceService } from './maintenance.service';

@ApiTags('admin')
@ApiBearerAuth()
@ApiAuthErrors()
@Roles('admin')
@Controller('api/v1/admin/maintenance')
export class MaintenanceController {
  constructor(
    private readonly maintenance: MaintenanceService,
    private readonly audit: AuditService,
  ) {}

  @Get('indexes')
  @ApiOperation({ summary: 'Indexes with size, scans, bloat estimate, validity and unused flag' })
  @ApiOkResponse({ type: IndexesDto })
  async indexes() {
    return { items: await this.maintenance.indexes() };
  }

  @Get('queries')
  @ApiOperation({
    summary: 'Top statements by total execution time (pg_stat_statements)',
    description:
      'Answers `{"available":false,"reason"}` when the extension is not installed or not preloaded.',
  })
  @ApiOkResponse({ type: StatementReportDto })
  @ApiErrorResponses(400)
  queries(@Query() query: StatementsQueryDto) {
    return this.maintenance.statements(query.limit);
  }

  @Post('run')
  @HttpCode(200)
  @ApiOperation({ summary: 'Run index maintenance now (analyze, reindex or all)' })
  @ApiOkResponse({ type: MaintenanceRunDto })
  @ApiErrorResponses(400)
  async run(@CurrentUser() user: AuthUser, @Query() query: RunMaintenanceQueryDto) {
    const outcome = await this.audit.around(
      user.sub,
      'maintenance.run',
      'index-maintenance',
      { task: query.task },
      () => this.maintenance.run('api', query.task),
      (o) => ({ runId: o.runId, status: o.status }),
    );
    return { task: query.task, ...outcome };
  }
}
