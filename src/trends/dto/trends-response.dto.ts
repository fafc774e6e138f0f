import { ApiProperty } from '@nestjs/swagger';

export class TimeRangeDto {
  @ApiProperty({ format: 'date-time', example: '2026-11-29T22:00:00.000Z' })
  from: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-30T22:00:00.000Z' })
  to: string;
}

export class TopItemDto {
  @ApiProperty({ example: 1 }) rank: number;
  @ApiProperty({ example: 'world cup' }) trendKey: string;
  @ApiProperty({
    example: 'World Cup',
    description: 'The spelling with the most mentions over the trend’s history (ties: latest)',
  })
  displayName: string;
  @ApiProperty({ example: 2600000 }) mentions: number;
  @ApiProperty({ example: 180000 }) engagement: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.4,
    description: 'Mention-weighted; null when no mention carried a sentiment',
  })
  sentiment: number | null;
  @ApiProperty({ example: 2000000 }) previousMentions: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.3,
    description: '(mentions − previousMentions) / previousMentions; null when previous is 0',
  })
  growth: number | null;
}

export class TopResponseDto {
  @ApiProperty({ type: TimeRangeDto }) window: TimeRangeDto;
  @ApiProperty({ type: TopItemDto, isArray: true }) items: TopItemDto[];
}

export class SeriesPointDto {
  @ApiProperty({ format: 'date-time', example: '2026-11-30T21:00:00.000Z' }) bucket: string;
  @ApiProperty({ example: 1200 }) mentions: number;
  @ApiProperty({ example: 300 }) engagement: number;
  @ApiProperty({ type: Number, nullable: true, example: 0.4 }) sentiment: number | null;
  @ApiProperty({ example: 3, description: 'Observations in the bucket' }) samples: number;
}

export class SeriesResponseDto {
  @ApiProperty({ example: 'world cup' }) trendKey: string;
  @ApiProperty({ example: 'World Cup', description: 'As in top and search' })
  displayName: string;
  @ApiProperty({ enum: ['minute', 'hour', 'day'], example: 'hour' }) interval: string;
  @ApiProperty({ format: 'date-time' }) from: string;
  @ApiProperty({ format: 'date-time' }) to: string;
  @ApiProperty({ type: SeriesPointDto, isArray: true }) points: SeriesPointDto[];
}

export class SearchItemDto {
  @ApiProperty({ example: 'world cup' }) trendKey: string;
  @ApiProperty({ example: 'World Cup' }) displayName: string;
  @ApiProperty({ format: 'date-time' }) lastSeen: string;
  @ApiProperty({ example: 5400 }) mentions24h: number;
}

export class SearchResponseDto {
  @ApiProperty({ type: SearchItemDto, isArray: true }) items: SearchItemDto[];
}
