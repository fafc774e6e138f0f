import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobScheduler } from '../jobs/job-scheduler';
import { RetentionService } from './retention.service';

/** The hourly partition job: one line calling the method the endpoint and the CLI use. */
@Injectable()
export class RetentionCron implements OnApplicationBootstrap {
  constructor(
    private readonly scheduler: JobScheduler,
    private readonly retention: RetentionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { enabled, cron } = this.config.jobs.partitions;
    this.scheduler.schedule('partitions', cron, enabled, () => this.retention.execute());
  }
}
