import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../auth/roles';
import { badParameter } from '../common/field-errors';
import { BackupService } from './backup.service';
import {
  BackupTaskAcceptedDto,
  ListBackupsQueryDto,
  RestoreAcceptedDto,
  RestoreBackupDto,
} from './dto/backup.dto';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('api/v1/admin/backups')
export class BackupController {
  constructor(private readonly backups: BackupService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a backup; answers with its id before the dump finishes' })
  @ApiAcceptedResponse({ type: BackupTaskAcceptedDto })
  create(@CurrentUser() user: AuthUser): Promise<BackupTaskAcceptedDto> {
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
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Start a verification (checksum, decrypt, pg_restore --list, timed scratch restore, row counts); ' +
      'its state and result appear under `verification` of GET /backups/{id}',
  })
  @ApiAcceptedResponse({ type: BackupTaskAcceptedDto })
  verify(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<BackupTaskAcceptedDto> {
    return this.backups.startVerify(id, user.sub, 'api');
  }

  @Post(':id/restore')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Start a restore into a new database (default) or, with force, over the live one; ' +
      'its state and result appear under `restore` of GET /backups/{id}',
  })
  @ApiAcceptedResponse({ type: RestoreAcceptedDto })
  restore(
    @Param('id') id: string,
    @Body() body: RestoreBackupDto,
    @CurrentUser() user: AuthUser,
  ): Promise<RestoreAcceptedDto> {
    if (body.confirm !== id)
      throw badParameter('confirm', 'confirm must equal the backup id being restored');
    return this.backups.startRestore(
      id,
      { targetDatabase: body.targetDatabase, force: body.force },
      user.sub,
      'api',
    );
  }
}
