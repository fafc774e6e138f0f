import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles';
import { Page, decodeCursor, toPage } from '../common/cursor';
import { ApiAuthErrors, ApiErrorResponses } from '../common/openapi';
import { parseTimeParam } from '../common/time-window';
import { AuditRepository } from './audit.repository';
import { AuditEntryDto, AuditPageDto, ListAuditQueryDto } from './dto/audit.dto';

@ApiTags('admin')
@ApiBearerAuth()
@ApiAuthErrors()
@Roles('admin')
@Controller('api/v1/admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @ApiOperation({ summary: 'The admin audit log, newest first, paged with cursors' })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiErrorResponses(400)
  async list(@Query() query: ListAuditQueryDto): Promise<Page<AuditEntryDto>> {
    const after = decodeCursor(query.cursor);
    const since = parseTimeParam(query.since, 'since');
    const rows = await this.audit.list(
      { actor: query.actor, action: query.action, since },
      after,
      query.limit + 1,
    );
    return toPage(
      rows,
      query.limit,
      (r) => ({ at: r.at_cursor, id: r.id }),
      (r) => ({
        id: r.id,
        actor: r.actor,
        action: r.action,
        target: r.target,
        at: r.at.toISOString(),
        details: r.details,
      }),
    );
  }
}
