import { ApiProperty } from '@nestjs/swagger';
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
  @ApiProperty({
    ...OBJECT,
    nullable: true,
    description:
      'Last verification: status (running, succeeded, failed, interrupted), steps, restoreDurationMs, source (local or offsite), …',
  })
  verification: Record<string, unknown> | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'How long the last verification took to restore into a scratch database (the measured RTO)',
  })
  restoreDurationMs: number | null;
  @ApiProperty({
    ...OBJECT,
    nullable: true,
    description: 'Off-site copy (S3): key, status (uploaded, failed, deleted), uploadedAt, error',
  })
  offsite: Record<string, unknown> | null;
  @ApiProperty({ ...OBJECT, nullable: true, description: 'Last restore: status, target, result' })
  restore: Record<string, unknown> | null;
  @ApiProperty({ ...OBJECT, nullable: true, description: 'sha256, sizes, versions, row counts' })
  manifest: Record<string, unknown> | null;
}

export const BackupPageDto = PageResponseDto(BackupDto, 'BackupPageDto');
