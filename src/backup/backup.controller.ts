import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../auth/roles';
import { decodeCursor, toPage } from '../common/cursor';
import { badParameter } from '../common/field-errors';
import { ApiAuthErrors, ApiErrorResponses } from '../common/openapi';
import { BackupRepository, toBackupView } from './backup.repository';
import { BackupService } from './backup.service';
import { BackupDto, BackupPageDto } from './dto/backup-response.dto';
import {
  BackupTaskAcceptedDto,
  ListBackupsQueryDto,
  RestoreAcceptedDto,
  RestoreBackupDto,
  VerifyAcceptedDto,
} from './dto/backup.dto';

const BACKUP_ID = { name: 'id', description: 'Backup id', example: '20261130T020000Z-1a2b3c' };

@ApiTags('admin')
@ApiBearerAuth()
@ApiAuthErrors()
@Roles('admin')
@Controller('api/v1/admin/backups')
export class BackupController {
  constructor(
    private readonly backups: BackupService,
    private readonly ledger: BackupRepository,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a backup; answers with its id before the dump finishes' })
  @ApiAcceptedResponse({ type: BackupTaskAcceptedDto })
  create(@CurrentUser() user: AuthUser): Promise<BackupTaskAcceptedDto> {
    return this.backups.start(user.sub, 'api');
  }

  @Get()
  @ApiOperation({ summary: 'Backups, newest first, paged with cursors' })
  @ApiOkResponse({ type: BackupPageDto })
  @ApiErrorResponses(400)
  async list(@Query() query: ListBackupsQueryDto) {
    const rows = await this.ledger.list(query.limit + 1, decodeCursor(query.cursor));
    return toPage(rows, query.limit, (r) => ({ at: r.at_cursor, id: r.id }), toBackupView);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One backup: status, file, size, sha256, timings, verification, manifest',
  })
  @ApiParam(BACKUP_ID)
  @ApiOkResponse({ type: BackupDto })
  @ApiErrorResponses([404, 'No backup with this id'])
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
  @ApiParam(BACKUP_ID)
  @ApiAcceptedResponse({ type: VerifyAcceptedDto })
  @ApiErrorResponses(
    [404, 'No backup with this id'],
    [409, 'A verify or restore of it is already running'],
  )
  verify(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<VerifyAcceptedDto> {
    return this.backups.startVerify(id, user.sub, 'api');
  }

  @Post(':id/restore')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Start a restore into a new database (default) or, with force, over the live one; ' +
      'its state and result appear under `restore` of GET /backups/{id}',
  })
  @ApiParam(BACKUP_ID)
  @ApiAcceptedResponse({ type: RestoreAcceptedDto })
  @ApiErrorResponses(
    400,
    [404, 'No backup with this id'],
    [409, 'A verify or restore of it is already running'],
  )
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
