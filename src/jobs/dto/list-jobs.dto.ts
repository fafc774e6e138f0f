import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/cursor';
import { JOB_NAMES, JOB_STATUSES } from '../job-names';

export class ListJobsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: JOB_NAMES })
  @IsOptional()
  @IsIn(JOB_NAMES, { message: `job must be one of ${JOB_NAMES.join(', ')}` })
  job?: string;

  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES, { message: `status must be one of ${JOB_STATUSES.join(', ')}` })
  status?: string;
}
