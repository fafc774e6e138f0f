import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const OBJECT = { type: 'object', additionalProperties: true } as const;

export class RetentionPolicyDto {
  @ApiProperty({ example: 'trend_observations' }) table: string;
  @ApiProperty({ example: 90 }) keepDays: number;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ type: String, nullable: true }) updatedBy: string | null;
}

export class RetentionPoliciesDto {
  @ApiProperty({ type: RetentionPolicyDto, isArray: true }) items: RetentionPolicyDto[];
}

export class RetentionRunDto {
  @ApiProperty() dryRun: boolean;
  @ApiPropertyOptional({ ...OBJECT, description: 'dryRun=true: what a run would do' })
  plan?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'dryRun=false: the job_runs id' }) runId?: string;
  @ApiPropertyOptional({ enum: ['succeeded', 'failed', 'skipped_locked'] }) status?: string;
  @ApiPropertyOptional({ ...OBJECT, description: 'created, relocated, dropped, trimmed, …' })
  result?: Record<string, unknown>;
  @ApiPropertyOptional() error?: string;
  @ApiPropertyOptional(OBJECT) details?: Record<string, unknown>;
}
