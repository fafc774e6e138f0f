import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { PageQueryDto } from '../../common/cursor';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

export class ListBackupsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100, description: 'Items per page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer from 1 to 500' })
  @Min(1, { message: 'limit must be an integer from 1 to 500' })
  @Max(500, { message: 'limit must be an integer from 1 to 500' })
  override limit: number = 100;
}

export class RestoreBackupDto {
  @ApiProperty({
    description: 'Must equal the backup id (guards against restoring the wrong backup)',
  })
  @IsOptional()
  @IsString({ message: 'confirm must be the backup id' })
  confirm?: string;

  @ApiPropertyOptional({
    description:
      'Database to restore into; default a new database <db>_restore_<id>. The live database needs "force": true',
  })
  @IsOptional()
  @IsString({ message: 'targetDatabase must be a string' })
  targetDatabase?: string;

  @ApiPropertyOptional({
    description: 'Required (true) to restore over the live database',
    default: false,
  })
  @IsOptional()
  @IsBoolean({ message: 'force must be a boolean' })
  force?: boolean;
}

export class BackupTaskAcceptedDto {
  @ApiProperty({ description: 'The backup id; poll GET /api/v1/admin/backups/{id}' })
  id: string;
}

export class VerifyAcceptedDto extends BackupTaskAcceptedDto {
  @ApiProperty({
    enum: ['local', 'offsite'],
    description: 'The copy it reads: the local file, or the off-site copy when that is gone (§15)',
  })
  source: 'local' | 'offsite';
}

export class RestoreAcceptedDto extends VerifyAcceptedDto {
  @ApiProperty({ description: 'The database being restored into' })
  targetDatabase: string;
}
