import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI description of an ingest item; validation is done by ingest-validator.ts. */
export class ObservationDto {
  @ApiProperty({ example: 'twitter', pattern: '^[a-z0-9_-]{1,32}$' })
  platform: string;

  @ApiProperty({
    example: 'Taylor Swift',
    description: 'Stored trimmed, NFKC, lower-cased (1..200 chars)',
  })
  trendKey: string;

  @ApiPropertyOptional({ description: 'Default: the raw key' })
  displayName?: string;

  @ApiPropertyOptional({ example: 'US', description: 'ISO 3166-1 alpha-2 or GLOBAL (default)' })
  region?: string;

  @ApiProperty({ example: '2026-11-22T10:00:00Z', description: 'ISO 8601 with offset' })
  observedAt: string;

  @ApiProperty({ minimum: 0, example: 1200 })
  mentions: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  engagement?: number;

  @ApiPropertyOptional({ minimum: -1, maximum: 1, nullable: true, type: Number })
  sentiment?: number | null;

  @ApiPropertyOptional({ maxLength: 200 })
  sourceId?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: '<= 4 KiB as JSON',
  })
  metadata?: Record<string, unknown>;
}

export class IngestRequestDto {
  @ApiProperty({ type: [ObservationDto], minItems: 1, description: '1..INGEST_MAX_BATCH items' })
  observations: ObservationDto[];
}

export class IngestResponseDto {
  @ApiProperty() accepted: number;
  @ApiProperty() duplicates: number;
}
