import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../auth/roles';
import { badParameter } from '../common/field-errors';
import { BackupService } from './backup.service';
import { ListBackupsQueryDto, RestoreBackupDto } from './dto/backup.dto';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('api/v1/admin/backups')
export class BackupController {
  constructor(private readonly backups: BackupService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a backup; answers with its id before the dump finishes' })
  create(@CurrentUser() user: AuthUser) {
    return this.backups.start(user.sub, 'api');
  }

  @Get()
  @ApiOperation({ summary: 'Backups, newest first' })
  async list(@Query() query: ListBackupsQueryDto) {
    return { items: await this.backups.list(query.limit) };
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One backup: status, file, size, sha256, timings, verification, manifest',
  })
  get(@Param('id') id: string) {
    return this.backups.get(id);
  }

  @Post(':id/verify')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Checksum, decrypt, pg_restore --list, restore into a scratch database, compare row counts',
  })
  verify(@Param('id') id: string, @CurrentUser() user: AuthUser) {
    return this.backups.verify(id, user.sub, 'api');
  }

  @Post(':id/restore')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Restore into a new database (default) or, with force, over the live one',
  })
  restore(@Param('id') id: string, @Body() body: RestoreBackupDto, @CurrentUser() user: AuthUser) {
    if (body.confirm !== id)
      throw badParameter('confirm', 'confirm must equal the backup id being restored');
    return this.backups.restore(
      id,
      { targetDatabase: body.targetDatabase, force: body.force },
      user.sub,
      'api',
    );
  }
}
