import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { REGIONS } from '../../trends/regions';

export const RULE_KINDS = ['threshold', 'growth', 'spike', 'new_trend'] as const;
export const RULE_METRICS = ['mentions', 'engagement'] as const;
export const RULE_WINDOWS = ['15m', '1h', '6h', '24h'] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export type RuleMetric = (typeof RULE_METRICS)[number];

const DURATION = /^\d{1,6}(s|m|h|d)$/;
const DURATION_MESSAGE = (field: string) =>
  `${field} must be a duration such as 0m, 90s, 10m, 4h or 1d`;
const upper = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toUpperCase() : value;

export class RuleScopeDto {
  @ApiPropertyOptional({
    nullable: true,
    description: 'One trend (normalized like ingest); null = every trend, one series per key',
  })
  @IsOptional()
  @IsString({ message: 'scope.trendKey must be a string or null' })
  @Length(1, 200, { message: 'scope.trendKey must be 1..200 characters' })
  trendKey?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    description: 'Platform slug; null = all platforms summed',
  })
  @IsOptional()
  @Matches(/^[a-z0-9_-]{1,32}$/, { message: 'scope.platform must match ^[a-z0-9_-]{1,32}$' })
  platform?: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'Region code; null = all regions summed' })
  @IsOptional()
  @Transform(upper)
  @IsIn([...REGIONS], { message: 'scope.region must be an ISO 3166-1 alpha-2 code or GLOBAL' })
  region?: string | null;
}

export class QuietHoursDto {
  @ApiProperty({ example: '22:00', description: 'Local start, HH:MM' })
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'quietHours.start must be HH:MM' })
  start!: string;

  @ApiProperty({ example: '07:00', description: 'Local end, HH:MM (before start: spans midnight)' })
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'quietHours.end must be HH:MM' })
  end!: string;

  @ApiProperty({ example: 'Europe/Berlin', description: 'IANA time zone' })
  @IsString({ message: 'quietHours.timeZone must be an IANA time zone' })
  timeZone!: string;
}

/** A rule as written by an admin (SPEC §12). */
export class RuleBodyDto {
  @ApiProperty({ example: 'Any trend spiking' })
  @IsString({ message: 'name must be a string of 1..200 characters' })
  @Length(1, 200, { message: 'name must be a string of 1..200 characters' })
  name!: string;

  @ApiProperty({ enum: RULE_KINDS })
  @IsIn(RULE_KINDS, { message: `kind must be one of ${RULE_KINDS.join(', ')}` })
  kind!: RuleKind;

  @ApiPropertyOptional({ enum: RULE_METRICS, default: 'mentions' })
  @IsOptional()
  @IsIn(RULE_METRICS, { message: `metric must be one of ${RULE_METRICS.join(', ')}` })
  metric?: RuleMetric;

  @ApiProperty({ enum: RULE_WINDOWS })
  @IsIn(RULE_WINDOWS, { message: `window must be one of ${RULE_WINDOWS.join(', ')}` })
  window!: string;

  @ApiPropertyOptional({
    type: RuleScopeDto,
    description: 'Default: every trend, all platforms and regions',
  })
  @IsOptional()
  @IsObject({ message: 'scope must be an object' })
  @ValidateNested()
  @Type(() => RuleScopeDto)
  scope?: RuleScopeDto;

  @ApiProperty({
    example: 2.0,
    description:
      'threshold: value >= it; growth: (cur - prev) / prev >= it; spike: z-score >= it; new_trend: mentions >= it',
  })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'threshold must be a number' })
  threshold!: number;

  @ApiPropertyOptional({
    default: 0,
    description:
      'growth: the previous window needs at least this many mentions; spike: the current window',
  })
  @IsOptional()
  @IsInt({ message: 'minMentions must be an integer >= 0' })
  @Min(0, { message: 'minMentions must be an integer >= 0' })
  minMentions?: number;

  @ApiPropertyOptional({ default: 168, description: 'spike: trailing whole hours of baseline' })
  @IsOptional()
  @IsInt({ message: 'baselineHours must be an integer from 24 to 2160' })
  @Min(24, { message: 'baselineHours must be an integer from 24 to 2160' })
  @Max(2160, { message: 'baselineHours must be an integer from 24 to 2160' })
  baselineHours?: number;

  @ApiPropertyOptional({
    default: '0m',
    description: 'How long the condition must hold before firing',
  })
  @IsOptional()
  @Matches(DURATION, { message: DURATION_MESSAGE('for') })
  for?: string;

  @ApiPropertyOptional({
    default: '0m',
    description: 'Keep firing this long after the condition clears',
  })
  @IsOptional()
  @Matches(DURATION, { message: DURATION_MESSAGE('keepFiringFor') })
  keepFiringFor?: string;

  @ApiPropertyOptional({ default: '4h', description: 'Re-notify this often while firing' })
  @IsOptional()
  @Matches(DURATION, { message: DURATION_MESSAGE('repeatInterval') })
  repeatInterval?: string;

  @ApiPropertyOptional({ enum: SEVERITIES, default: 'warning' })
  @IsOptional()
  @IsIn(SEVERITIES, { message: `severity must be one of ${SEVERITIES.join(', ')}` })
  severity?: string;

  @ApiPropertyOptional({ type: [String], default: [], description: 'Notification channel ids' })
  @IsOptional()
  @IsArray({ message: 'channels must be an array of channel ids' })
  @ArrayMaxSize(20, { message: 'channels must list at most 20 channel ids' })
  @Matches(/^\d{1,18}$/, { each: true, message: 'channels must be an array of channel ids' })
  channels?: string[];

  @ApiPropertyOptional({ type: QuietHoursDto, nullable: true })
  @IsOptional()
  @IsObject({ message: 'quietHours must be an object or null' })
  @ValidateNested()
  @Type(() => QuietHoursDto)
  quietHours?: QuietHoursDto | null;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}

export class PreviewRuleDto extends RuleBodyDto {
  @ApiPropertyOptional({ description: 'Evaluation time (ISO 8601); default now' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'at must be an ISO 8601 timestamp' })
  at?: string;
}

export class RuleScopeView {
  @ApiProperty({ nullable: true, type: String }) trendKey!: string | null;
  @ApiProperty({ nullable: true, type: String }) platform!: string | null;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
}

export class RuleView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: RULE_KINDS }) kind!: string;
  @ApiProperty({ enum: RULE_METRICS }) metric!: string;
  @ApiProperty({ enum: RULE_WINDOWS }) window!: string;
  @ApiProperty({ type: RuleScopeView }) scope!: RuleScopeView;
  @ApiProperty() threshold!: number;
  @ApiProperty() minMentions!: number;
  @ApiProperty() baselineHours!: number;
  @ApiProperty() for!: string;
  @ApiProperty() keepFiringFor!: string;
  @ApiProperty() repeatInterval!: string;
  @ApiProperty({ enum: SEVERITIES }) severity!: string;
  @ApiProperty({ type: [String] }) channels!: string[];
  @ApiProperty({
    type: 'object',
    nullable: true,
    required: ['start', 'end', 'timeZone'],
    properties: {
      start: { type: 'string', example: '22:00' },
      end: { type: 'string', example: '07:00' },
      timeZone: { type: 'string', example: 'Europe/Berlin' },
    },
    description: 'Notifications are held back in this daily window (local time of timeZone)',
  })
  quietHours!: QuietHoursDto | null;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() version!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class RuleListView {
  @ApiProperty({ type: [RuleView] }) items!: RuleView[];
}

export class PreviewSeriesView {
  @ApiProperty() trendKey!: string;
  @ApiProperty({ nullable: true, type: String }) platform!: string | null;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
  @ApiProperty({ description: 'The rule value (sum, growth, z-score or mentions)' }) value!: number;
  @ApiProperty({ description: 'The window total of the metric' }) current!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'growth: previous window total' })
  previous!: number | null;
}

export class PreviewView {
  @ApiProperty() at!: string;
  @ApiProperty({ description: 'Window [from, to)' }) from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ type: [PreviewSeriesView] }) items!: PreviewSeriesView[];
}
