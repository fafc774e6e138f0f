import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobScheduler } from '../jobs/job-scheduler';
import { MaintenanceService } from './maintenance.service';

/** The nightly index-maintenance job: one line calling the method the endpoint and the CLI use. */
@Injectable()
export class MaintenanceCron implements OnApplicationBootstrap {
  constructor(
    private readonly scheduler: JobScheduler,
    private readonly maintenance: MaintenanceService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { enabled, cron } = this.config.jobs.indexMaintenance;
    this.scheduler.schedule('index-maintenance', cron, enabled, () =>
      this.maintenance.execute('all'),
    );
  }
}
