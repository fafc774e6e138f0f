import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';

export class CreateSilenceDto {
  @ApiPropertyOptional({ description: 'Silence this rule (with trendKey: only that series)' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'ruleId must be a rule id' })
  ruleId?: string;

  @ApiPropertyOptional({ description: 'Silence this trend (in every rule, or in ruleId)' })
  @IsOptional()
  @IsString({ message: 'trendKey must be a string of 1..200 characters' })
  @Length(1, 200, { message: 'trendKey must be a string of 1..200 characters' })
  trendKey?: string;

  @ApiPropertyOptional({ description: 'Start (ISO 8601); default now' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'startsAt must be an ISO 8601 timestamp' })
  startsAt?: string;

  @ApiProperty({ description: 'End (ISO 8601), exclusive' })
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 timestamp' })
  until!: string;

  @ApiProperty({ example: 'planned campaign launch' })
  @IsString({ message: 'comment must be a string of 1..500 characters' })
  @Length(1, 500, { message: 'comment must be a string of 1..500 characters' })
  comment!: string;
}

export class ListSilencesQueryDto {
  @ApiPropertyOptional({ default: false, description: 'Also list expired silences' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'expired must be true or false' })
  expired: boolean = false;
}

export class SilenceView {
  @ApiProperty() id!: string;
  @ApiProperty({ nullable: true, type: String }) ruleId!: string | null;
  @ApiProperty({ nullable: true, type: String }) trendKey!: string | null;
  @ApiProperty() startsAt!: string;
  @ApiProperty() until!: string;
  @ApiProperty() comment!: string;
  @ApiProperty() createdBy!: string;
}

export class SilenceListView {
  @ApiProperty({ type: [SilenceView] }) items!: SilenceView[];
}
