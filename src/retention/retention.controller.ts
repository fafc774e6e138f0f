import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAuthErrors, ApiErrorResponses } from '../common/openapi';
import { PartitionListDto } from './dto/partition.dto';
import {
  RetentionPoliciesDto,
  RetentionPolicyDto,
  RetentionRunDto,
} from './dto/retention-response.dto';
import { AuditService } from '../audit/audit.service';
import { AuthUser, CurrentUser, Roles } from '../auth/roles';
import { RunRetentionQueryDto } from './dto/run-retention.dto';
import { UpdatePolicyDto } from './dto/update-policy.dto';
import { RetentionService } from './retention.service';

@ApiTags('admin')
@ApiBearerAuth()
@ApiAuthErrors()
@Roles('admin')
@Controller('api/v1/admin/retention')
export class RetentionController {
  constructor(
    private readonly retention: RetentionService,
    private readonly audit: AuditService,
  ) {}

  @Get('policies')
  @ApiOperation({ summary: 'Retention policy per table' })
  @ApiOkResponse({ type: RetentionPoliciesDto })
  async policies() {
    return { items: await this.retention.policies() };
  }

  @Put('policies/:table')
  @ApiOperation({ summary: 'Change a retention policy (audited)' })
  @ApiParam({
    name: 'table',
    description: 'Table the policy applies to',
    example: 'trend_observations',
  })
  @ApiOkResponse({ type: RetentionPolicyDto })
  @ApiErrorResponses(400, [404, 'No policy for this table'])
  updatePolicy(
    @CurrentUser() user: AuthUser,
    @Param('table') table: string,
    @Body() body: UpdatePolicyDto,
  ) {
    return this.retention.updatePolicy(user.sub, table, body.keepDays, body.enabled);
  }

  @Get('partitions')
  @ApiOperation({
    summary: 'Partitions of the partitioned tables with ranges and sizes, DEFAULT ones included',
  })
  @ApiOkResponse({ type: PartitionListDto })
  async partitions(): Promise<PartitionListDto> {
    const items = await this.retention.partitions();
    return {
      items: items.map((p) => ({
        table: p.table,
        partition: p.partition,
        from: p.from?.toISOString() ?? null,
        to: p.to?.toISOString() ?? null,
        estimatedRows: p.estimatedRows,
        rows: p.rows,
        bytes: p.bytes,
        isDefault: p.isDefault,
      })),
    };
  }

  @Post('run')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run the partition/retention job now, or return its plan (dryRun=true)',
  })
  @ApiOkResponse({ type: RetentionRunDto })
  @ApiErrorResponses(400)
  run(@CurrentUser() user: AuthUser, @Query() query: RunRetentionQueryDto) {
    return this.audit.around(
      user.sub,
      'retention.run',
      'partitions',
      { dryRun: query.dryRun },
      () => this.retention.run('api', query.dryRun),
      (outcome) => ('status' in outcome ? { runId: outcome.runId, status: outcome.status } : {}),
    );
  }
}
