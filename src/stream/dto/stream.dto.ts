import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class StreamQueryDto {
  @ApiPropertyOptional({
    description: 'Comma-separated topics: alerts, ingest, top. Omitted = all three.',
    example: 'alerts,ingest,top',
  })
  @IsOptional()
  @Matches(/^\s*(alerts?|ingest|top)\s*(,\s*(alerts?|ingest|top)\s*)*$/, {
    message: 'topics must be a comma-separated list of alerts, ingest, top',
  })
  topics?: string;

  @ApiPropertyOptional({
    description: 'Single-use ticket from POST /api/v1/stream/tickets (instead of a bearer token)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200, { message: 'ticket is not a valid ticket' })
  ticket?: string;

  @ApiPropertyOptional({
    description: 'Resume after this event id (as the Last-Event-ID header does)',
    example: '1796300000000-0',
  })
  @IsOptional()
  @Matches(/^\d{1,16}-\d{1,16}$/, {
    message: 'lastEventId must be an event id such as 1796300000000-0',
  })
  lastEventId?: string;
}

export class StreamTicketDto {
  @ApiProperty({ description: 'Pass as ?ticket= to GET /api/v1/stream within 60 s; valid once' })
  ticket!: string;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  expiresAt!: string;
}
