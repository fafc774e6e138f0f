import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageResponseDto } from '../../common/cursor';

const OBJECT = { type: 'object', additionalProperties: true } as const;

export class BackupDto {
  @ApiProperty({ example: '20261130T020000Z-1a2b3c' }) id: string;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed'] }) status: string;
  @ApiProperty() file: string;
  @ApiProperty({ type: Number, nullable: true }) sizeBytes: number | null;
  @ApiProperty({ type: String, nullable: true }) sha256: string | null;
  @ApiProperty() encrypted: boolean;
  @ApiProperty({ example: 'cron' }) trigger: string;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) durationMs: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) verifiedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deletedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty({ ...OBJECT, nullable: true, description: 'Last verification result' })
  verification: Record<string, unknown> | null;
  @ApiProperty({ ...OBJECT, nullable: true, description: 'sha256, sizes, versions, row counts' })
  manifest: Record<string, unknown> | null;
}

export const BackupPageDto = PageResponseDto(BackupDto, 'BackupPageDto');

export class BackupStartedDto {
  @ApiProperty({ example: '20261130T020000Z-1a2b3c' }) id: string;
}

export class VerificationResultDto {
  @ApiProperty() backupId: string;
  @ApiProperty() ok: boolean;
  @ApiProperty({ format: 'date-time' }) checkedAt: string;
  @ApiProperty({
    type: String,
    nullable: true,
    // OpenAPI 3.0: a nullable enum lists null among its values.
    enum: ['file', 'checksum', 'decrypt', 'list', 'restore', 'row_counts', null],
  })
  failedStep: string | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', enum: ['ok', 'failed', 'skipped'] },
  })
  steps: Record<string, string>;
  @ApiPropertyOptional() archiveEntries?: number;
  @ApiPropertyOptional() scratchDatabase?: string;
  @ApiPropertyOptional() tablesCompared?: number;
  @ApiPropertyOptional({ type: 'array', items: OBJECT })
  mismatches?: Record<string, unknown>[];
}

export class RestoreResultDto {
  @ApiProperty() backupId: string;
  @ApiProperty() targetDatabase: string;
  @ApiProperty() overLiveDatabase: boolean;
  @ApiProperty() durationMs: number;
  @ApiProperty({ ...OBJECT, description: '{tablesCompared, mismatches[]}' })
  rowCounts: Record<string, unknown>;
}
