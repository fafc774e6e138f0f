import { ApiProperty } from '@nestjs/swagger';
import { PageResponseDto } from '../../common/cursor';
import { JOB_NAMES, JOB_STATUSES } from '../job-names';

export class JobRunDto {
  @ApiProperty({ example: '42' }) id: string;
  @ApiProperty({ enum: JOB_NAMES }) job: string;
  @ApiProperty({ example: 'cron', description: 'cron, api or cli' }) trigger: string;
  @ApiProperty({ enum: JOB_STATUSES }) status: string;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) durationMs: number | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  details: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
}

export const JobRunPageDto = PageResponseDto(JobRunDto, 'JobRunPageDto');
