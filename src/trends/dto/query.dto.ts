import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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

const lower = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;
const upper = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toUpperCase() : value;

/** Filters shared by trend and analytics queries. */
export class ScopeQueryDto {
  @ApiPropertyOptional({
    description: 'Platform slug; omitted = all platforms summed',
    example: 'twitter',
  })
  @IsOptional()
  @Transform(lower)
  @Matches(/^[a-z0-9_-]{1,32}$/, { message: 'platform must match ^[a-z0-9_-]{1,32}$ (any case)' })
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

/** Ranked lists (top, movers, search) answer at most this many items. */
export const MAX_RANKED_LIMIT = 1000;
const LIMIT_MESSAGE = `limit must be an integer from 1 to ${MAX_RANKED_LIMIT}`;

/** `limit` of a ranked list. */
const RankedLimit = () =>
  applyDecorators(
    ApiPropertyOptional({
      minimum: 1,
      maximum: MAX_RANKED_LIMIT,
      default: 20,
      description: 'Number of ranked items',
    }),
    IsOptional(),
    Type(() => Number),
    IsInt({ message: LIMIT_MESSAGE }),
    Min(1, { message: LIMIT_MESSAGE }),
    Max(MAX_RANKED_LIMIT, { message: LIMIT_MESSAGE }),
  );

/** `format` of answers that can be CSV (same as `Accept: text/csv`). */
export const FormatParam = () =>
  applyDecorators(
    ApiPropertyOptional({
      enum: ['json', 'csv'],
      description:
        'Answer representation; default from the Accept header (text/csv gives CSV), else json',
    }),
    IsOptional(),
    IsIn(['json', 'csv'], { message: 'format must be one of json, csv' }),
  );

export class LimitQueryDto extends ScopeQueryDto {
  @RankedLimit()
  limit: number = 20;

  @FormatParam()
  format?: 'json' | 'csv';
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
      'Start (ISO 8601), floored to the interval; default: `to` minus 60 buckets for minute, 24 for hour, 30 for day; without an offset = UTC; at most a year ahead',
    example: '2026-11-29T00:00:00Z',
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

  @FormatParam()
  format?: 'json' | 'csv';
}

export class SearchQueryDto {
  @ApiProperty({ description: 'Prefix of the normalized trend key', example: 'taylor' })
  @IsString({ message: 'q is required' })
  @Length(1, 200, { message: 'q must be 1 to 200 characters' })
  q: string;

  @RankedLimit()
  limit: number = 20;

  @FormatParam()
  format?: 'json' | 'csv';
}
