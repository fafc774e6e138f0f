import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { PageQueryDto, PageResponseDto } from '../../common/cursor';

export class ListAuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only entries by this subject (token sub)', example: 'ops' })
  @IsOptional()
  @IsString({ message: 'actor must be a string' })
  @Length(1, 200, { message: 'actor must be 1 to 200 characters' })
  actor?: string;

  @ApiPropertyOptional({
    description: 'Only this action, e.g. backup.create, retention.run, cache.clear',
    example: 'retention.run',
  })
  @IsOptional()
  @IsString({ message: 'action must be a string' })
  @Length(1, 200, { message: 'action must be 1 to 200 characters' })
  action?: string;

  @ApiPropertyOptional({
    description: 'Only entries at or after this time (ISO 8601)',
    example: '2026-11-30T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601(
    { strict: true, strictSeparator: true },
    { message: 'since must be an ISO 8601 timestamp' },
  )
  since?: string;
}

export class AuditEntryDto {
  @ApiProperty({ example: '17' }) id: string;
  @ApiProperty({ example: 'ops' }) actor: string;
  @ApiProperty({ example: 'retention.policy.update' }) action: string;
  @ApiProperty({ type: String, nullable: true, example: 'trend_observations' })
  target: string | null;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  details: Record<string, unknown> | null;
}

export const AuditPageDto = PageResponseDto(AuditEntryDto, 'AuditPageDto');
