import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles';
import { decodeCursor } from '../common/cursor';
import { ApiAuthErrors, ApiErrorResponses } from '../common/openapi';
import { JobRunDto, JobRunPageDto } from './dto/job-run.dto';
import { ListJobsQueryDto } from './dto/list-jobs.dto';
import { JobsRepository } from './jobs.repository';

@ApiTags('admin')
@ApiBearerAuth()
@ApiAuthErrors()
@Roles('admin')
@Controller('api/v1/admin/jobs')
export class JobsController {
  constructor(private readonly runs: JobsRepository) {}

  @Get()
  @ApiOperation({ summary: 'Job runs, newest first, paged with cursors' })
  @ApiOkResponse({ type: JobRunPageDto })
  @ApiErrorResponses(400)
  list(@Query() query: ListJobsQueryDto) {
    return this.runs.list(
      { job: query.job, status: query.status },
      decodeCursor(query.cursor),
      query.limit,
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job run' })
  @ApiParam({ name: 'id', description: 'Job run id', example: '42' })
  @ApiOkResponse({ type: JobRunDto })
  @ApiErrorResponses([404, 'No job run with this id'])
  async get(@Param('id') id: string) {
    const run = /^\d{1,18}$/.test(id) ? await this.runs.get(id) : undefined;
    if (!run) throw new NotFoundException(`job run ${id} not found`);
    return run;
  }
}
