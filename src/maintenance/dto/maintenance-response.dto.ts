import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAINTENANCE_TASKS } from '../maintenance.service';

const OBJECT = { type: 'object', additionalProperties: true } as const;

export class IndexDto {
  @ApiProperty() table: string;
  @ApiProperty() index: string;
  @ApiProperty({ example: 'btree' }) method: string;
  @ApiProperty() sizeBytes: number;
  @ApiProperty() scans: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Estimated bloat fraction' })
  bloatEstimate: number | null;
  @ApiProperty() valid: boolean;
  @ApiProperty() unique: boolean;
  @ApiProperty() primary: boolean;
  @ApiProperty() unused: boolean;
}

export class IndexesDto {
  @ApiProperty({ type: IndexDto, isArray: true }) items: IndexDto[];
}

export class MaintenanceRunDto {
  @ApiProperty({ enum: MAINTENANCE_TASKS }) task: string;
  @ApiProperty({ description: 'The job_runs id' }) runId: string;
  @ApiProperty({ enum: ['succeeded', 'failed', 'skipped_locked'] }) status: string;
  @ApiPropertyOptional({ ...OBJECT, description: 'analyzed, reindexed, unused, failures, …' })
  result?: Record<string, unknown>;
  @ApiPropertyOptional() error?: string;
  @ApiPropertyOptional(OBJECT) details?: Record<string, unknown>;
}

export class StatementStatsDto {
  @ApiProperty({ description: 'Statement as normalized by pg_stat_statements ($1 for values)' })
  query: string;
  @ApiProperty() calls: number;
  @ApiProperty() totalMs: number;
  @ApiProperty() meanMs: number;
  @ApiProperty() maxMs: number;
  @ApiProperty() rows: number;
}

export class StatementReportDto {
  @ApiProperty({ description: 'false when pg_stat_statements is not installed or not preloaded' })
  available: boolean;
  @ApiPropertyOptional({ type: StatementStatsDto, isArray: true, description: 'When available' })
  items?: StatementStatsDto[];
  @ApiPropertyOptional({ description: 'Why the report is unavailable, and how to enable it' })
  reason?: string;
}
