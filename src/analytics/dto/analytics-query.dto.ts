import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import { FormatParam, ScopeQueryDto, WindowQueryDto } from '../../trends/dto/query.dto';

const ISO = { strict: true, strictSeparator: true };

export class RangeQueryDto extends ScopeQueryDto {
  @ApiPropertyOptional({
    description:
      'Start, inclusive (ISO 8601); default to − 24h. Used as given.; without an offset = UTC; at most a year ahead',
  })
  @IsOptional()
  @IsISO8601(ISO, { message: 'from must be an ISO 8601 timestamp' })
  from?: string;

  @ApiPropertyOptional({
    description:
      'End, exclusive (ISO 8601); default the end of the current hour; without an offset = UTC; at most a year ahead',
  })
  @IsOptional()
  @IsISO8601(ISO, { message: 'to must be an ISO 8601 timestamp' })
  to?: string;
}

export class OverviewQueryDto extends RangeQueryDto {
  @ApiPropertyOptional({
    enum: ['previous_period'],
    description: 'Add the period just before and the change',
  })
  @IsOptional()
  @IsIn(['previous_period'], { message: 'compare must be previous_period' })
  compare?: 'previous_period';
}

/** Per-platform breakdown: filters by region only (the answer is per platform). */
export class PlatformsQueryDto extends PickType(RangeQueryDto, ['from', 'to', 'region'] as const) {
  @FormatParam()
  format?: 'json' | 'csv';
}

export class MoversQueryDto extends WindowQueryDto {
  @ApiPropertyOptional({ enum: ['rising', 'falling'], default: 'rising' })
  @IsOptional()
  @IsIn(['rising', 'falling'], { message: 'direction must be one of rising, falling' })
  direction: 'rising' | 'falling' = 'rising';

  @ApiPropertyOptional({
    minimum: 0,
    default: 1,
    description: 'Ignore trends with fewer mentions than this in both windows',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'minMentions must be a non-negative integer' })
  @Min(0, { message: 'minMentions must be a non-negative integer' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'minMentions must be a non-negative integer' })
  minMentions: number = 1;
}
