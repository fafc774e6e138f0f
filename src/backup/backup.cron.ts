import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobScheduler } from '../jobs/job-scheduler';
import { BackupService } from './backup.service';

/** The schedule: BACKUP_CRON runs the same backup as the API, plus off-site, rotation, verify. */
@Injectable()
export class BackupCron implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly scheduler: JobScheduler,
    private readonly backups: BackupService,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.schedule('backup', this.config.backup.cron, this.config.backup.enabled, () =>
      this.backups.scheduled(),
    );
  }
}
