import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CacheModule } from '../cache/cache.module';
import { JobsModule } from '../jobs/jobs.module';
import { BackupArchives } from './backup-archive';
import { BackupCron } from './backup.cron';
import { BackupController } from './backup.controller';
import { BackupDumper } from './backup-dumper';
import { BackupOffsite } from './backup-offsite';
import { BackupRepository } from './backup.repository';
import { BackupRestorer } from './backup-restorer';
import { BackupRotation } from './backup-rotation';
import { BackupService } from './backup.service';
import { BackupVerifier } from './backup-verifier';
import { PgProcessRunner } from './pg-process';

/**
 * pg_dump backups (SPEC §7, §15): the dumper writes, the verifier restores into a scratch
 * database, the restorer restores, rotation deletes, the off-site store copies to S3; the
 * service runs each as a job; PgProcessRunner is the one place child processes start.
 */
@Module({
  imports: [AuditModule, JobsModule, CacheModule],
  controllers: [BackupController],
  providers: [
    BackupService,
    BackupCron,
    BackupRepository,
    BackupDumper,
    BackupVerifier,
    BackupRestorer,
    BackupRotation,
    BackupOffsite,
    BackupArchives,
    PgProcessRunner,
  ],
  exports: [BackupService],
})
export class BackupModule {}
