import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles';
import { ListJobsQueryDto } from './dto/list-jobs.dto';
import { JobsRepository } from './jobs.repository';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('api/v1/admin/jobs')
export class JobsController {
  constructor(private readonly runs: JobsRepository) {}

  @Get()
  @ApiOperation({ summary: 'Job runs, newest first' })
  async list(@Query() query: ListJobsQueryDto) {
    return { items: await this.runs.list(query) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job run' })
  async get(@Param('id') id: string) {
    const run = /^\d{1,18}$/.test(id) ? await this.runs.get(id) : undefined;
    if (!run) throw new NotFoundException(`job run ${id} not found`);
    return run;
  }
}
