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
