import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TimeRangeDto } from '../../trends/dto/trends-response.dto';

export class FiguresDto {
  @ApiProperty({ example: 1520 }) observations: number;
  @ApiProperty({ example: 2600000 }) mentions: number;
  @ApiProperty({ example: 180000 }) engagement: number;
  @ApiProperty({ example: 42, description: 'Distinct trend keys' }) distinctTrends: number;
  @ApiProperty({ type: Number, nullable: true, example: 0.4 }) sentiment: number | null;
}

export class PlatformFiguresDto extends FiguresDto {
  @ApiProperty({ example: 'twitter' }) platform: string;
}

export class OverviewResponseDto {
  @ApiProperty({ format: 'date-time' }) from: string;
  @ApiProperty({ format: 'date-time' }) to: string;
  @ApiProperty({ type: FiguresDto }) totals: FiguresDto;
  @ApiProperty({ type: PlatformFiguresDto, isArray: true }) platforms: PlatformFiguresDto[];
  @ApiPropertyOptional({ type: FiguresDto, description: 'With compare=previous_period' })
  previous?: FiguresDto;
  @ApiPropertyOptional({
    type: FiguresDto,
    description: 'totals − previous (sentiment null when either is null)',
  })
  change?: FiguresDto;
}

export class MoverItemDto {
  @ApiProperty({ example: 1 }) rank: number;
  @ApiProperty({ example: 'world cup' }) trendKey: string;
  @ApiProperty({ example: 'World Cup' }) displayName: string;
  @ApiProperty({ example: 5000 }) mentions: number;
  @ApiProperty({ example: 1000 }) previousMentions: number;
  @ApiProperty({ example: 4000 }) change: number;
  @ApiProperty({ type: Number, nullable: true, example: 4 }) growth: number | null;
}

export class MoversResponseDto {
  @ApiProperty({ type: TimeRangeDto }) window: TimeRangeDto;
  @ApiProperty({ enum: ['rising', 'falling'] }) direction: string;
  @ApiProperty({ type: MoverItemDto, isArray: true }) items: MoverItemDto[];
  @ApiProperty({
    type: MoverItemDto,
    isArray: true,
    description: 'Trends with no mentions in the previous window',
  })
  new: MoverItemDto[];
}

export class PlatformItemDto {
  @ApiProperty({ example: 'twitter' }) platform: string;
  @ApiProperty({ example: 2600000 }) mentions: number;
  @ApiProperty({ example: 180000 }) engagement: number;
  @ApiProperty({ example: 1520 }) observations: number;
  @ApiProperty({ example: 42 }) distinctTrends: number;
  @ApiProperty({ example: 0.65, description: 'Fraction of all mentions (sums to 1)' })
  share: number;
}

export class PlatformsResponseDto {
  @ApiProperty({ format: 'date-time' }) from: string;
  @ApiProperty({ format: 'date-time' }) to: string;
  @ApiProperty({ type: PlatformItemDto, isArray: true }) items: PlatformItemDto[];
}
