import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger';

const OBJECT = { type: 'object', additionalProperties: true } as const;

/** Terminus' indicator results: `{ <check>: { status: 'up' | 'down', ... } }`. */
const INDICATORS: { type: 'object'; additionalProperties: SchemaObject } = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    required: ['status'],
    additionalProperties: true,
  },
};

export class LiveDto {
  @ApiProperty({ enum: ['ok'] }) status: string;
}

export class HealthReportDto {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'] }) status: string;
  @ApiPropertyOptional({ ...INDICATORS, description: 'Checks that are up' })
  info?: Record<string, unknown>;
  @ApiPropertyOptional({
    ...INDICATORS,
    description: 'Checks that are down. In a 503 answer this field holds the failed checks',
  })
  error?: Record<string, unknown>;
  @ApiPropertyOptional({ ...INDICATORS, description: 'Every check' })
  details?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'In 503 answers', example: 503 }) statusCode?: number;
  @ApiPropertyOptional({ description: 'In 503 answers' }) requestId?: string;
}

export class StatusDto {
  @ApiProperty({ example: 'trend-service' }) service: string;
  @ApiProperty() version: string;
  @ApiProperty({ example: 'ready' }) phase: string;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty() uptimeSeconds: number;
  @ApiProperty({ ...INDICATORS, description: 'database, redis, backupDisk, heap' })
  components: Record<string, unknown>;
  @ApiProperty({ ...OBJECT, description: '{ratePerSecond, windowSeconds, scope}' })
  ingest: Record<string, unknown>;
  @ApiProperty({ ...OBJECT, description: '{hitRate}' }) cache: Record<string, unknown>;
  @ApiProperty({ type: 'array', items: OBJECT, nullable: true, description: 'Per job' })
  lastJobRuns: Record<string, unknown>[] | null;
}

export class LastHourDto {
  @ApiProperty() observations: number;
  @ApiProperty() mentions: number;
}

export class PlatformActivityDto {
  @ApiProperty() platform: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastObservedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastIngestedAt: string | null;
  @ApiProperty({ type: LastHourDto }) lastHour: LastHourDto;
  @ApiProperty({ type: Number, nullable: true }) ingestLagSeconds: number | null;
  @ApiProperty({ type: Number, nullable: true }) avgArrivalDelaySeconds: number | null;
}

export class TrendsStatusDto {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: PlatformActivityDto, isArray: true }) platforms: PlatformActivityDto[];
}

export class DatabaseInfoDto {
  @ApiProperty({ ...OBJECT, description: '{mode, host, database, user, ssl}; never a password' })
  connection: Record<string, unknown>;
  @ApiProperty({ ...OBJECT, description: '{total, idle, waiting, max}' })
  pool: Record<string, unknown>;
  @ApiProperty({
    type: 'array',
    items: OBJECT,
    description:
      'Read replicas (§14): name, host, port, database, user, up, healthy, lagSeconds, replayLsn, checkedAt, error, pool',
  })
  readPools: Record<string, unknown>[];
  @ApiProperty({
    ...OBJECT,
    description:
      'WAL archiving (§15, from pg_stat_archiver): archived/failed counts, last archived WAL and time, last failure; or {error}',
  })
  walArchive: Record<string, unknown>;
  @ApiProperty() serverVersion: string;
  @ApiProperty() sizeBytes: number;
  @ApiProperty({ type: 'array', items: OBJECT }) partitions: Record<string, unknown>[];
}

export class MemoryDto {
  @ApiProperty({ ...OBJECT, description: 'process.memoryUsage()' })
  memoryUsage: Record<string, unknown>;
  @ApiProperty({ ...OBJECT, description: 'v8.getHeapStatistics()' })
  heapStatistics: Record<string, unknown>;
  @ApiProperty({ ...OBJECT, description: 'Event-loop delay since the previous call (ms)' })
  eventLoopLag: Record<string, unknown>;
}
