import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { WINDOW_NAMES } from '../../common/time-window';
import { REGIONS } from '../regions';

const upper = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toUpperCase() : value;

/** Filters shared by trend and analytics queries. */
export class ScopeQueryDto {
  @ApiPropertyOptional({
    description: 'Platform slug; omitted = all platforms summed',
    example: 'twitter',
  })
  @IsOptional()
  @Matches(/^[a-z0-9_-]{1,32}$/, { message: 'platform must match ^[a-z0-9_-]{1,32}$' })
  platform?: string;

  @ApiPropertyOptional({
    description: 'ISO 3166-1 alpha-2 or GLOBAL; omitted = all regions',
    example: 'US',
  })
  @IsOptional()
  @Transform(upper)
  @IsIn([...REGIONS], { message: 'region must be an ISO 3166-1 alpha-2 code or GLOBAL' })
  region?: string;
}

export class LimitQueryDto extends ScopeQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer from 1 to 100' })
  @Min(1, { message: 'limit must be an integer from 1 to 100' })
  @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit: number = 20;
}

const ISO = { strict: true, strictSeparator: true };

/** A named window ending at `at`, with scope and limit: top trends and movers. */
export class WindowQueryDto extends LimitQueryDto {
  @ApiPropertyOptional({ enum: WINDOW_NAMES, default: '24h' })
  @IsOptional()
  @IsIn(WINDOW_NAMES, { message: `window must be one of ${WINDOW_NAMES.join(', ')}` })
  window: string = '24h';

  @ApiPropertyOptional({
    description:
      'End of the window (ISO 8601); rounded up to a whole hour for windows >= 1h; without an offset = UTC; at most a year ahead',
  })
  @IsOptional()
  @IsISO8601(ISO, { message: 'at must be an ISO 8601 timestamp' })
  at?: string;
}

export class TopQueryDto extends WindowQueryDto {}

export class SeriesQueryDto extends ScopeQueryDto {
  @ApiPropertyOptional({ enum: ['minute', 'hour', 'day'], default: 'hour' })
  @IsOptional()
  @IsIn(['minute', 'hour', 'day'], { message: 'interval must be one of minute, hour, day' })
  interval: 'minute' | 'hour' | 'day' = 'hour';

  @ApiPropertyOptional({
    description:
      'Start (ISO 8601), floored to the interval; default to − 24 buckets-worth; without an offset = UTC; at most a year ahead',
  })
  @IsOptional()
  @IsISO8601(ISO, { message: 'from must be an ISO 8601 timestamp' })
  from?: string;

  @ApiPropertyOptional({
    description:
      'End, exclusive (ISO 8601), rounded up to the interval; default now; without an offset = UTC; at most a year ahead',
  })
  @IsOptional()
  @IsISO8601(ISO, { message: 'to must be an ISO 8601 timestamp' })
  to?: string;
}

export class SearchQueryDto {
  @ApiPropertyOptional({ description: 'Prefix of the normalized trend key', example: 'taylor' })
  @IsString({ message: 'q is required' })
  @Length(1, 200, { message: 'q must be 1 to 200 characters' })
  q: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer from 1 to 100' })
  @Min(1, { message: 'limit must be an integer from 1 to 100' })
  @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit: number = 20;
}
