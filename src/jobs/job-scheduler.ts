import { Inject, Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobName } from './job-names';
import { JobsService } from './jobs.service';

/**
 * Registers a job's cron schedule (expressions come from env, so they are added at runtime
 * rather than with @Cron). JOBS_ENABLED=false or the job's own switch leaves it unscheduled;
 * manual runs still work.
 */
@Injectable()
export class JobScheduler {
  private readonly logger = new Logger(JobScheduler.name);

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  schedule(
    job: JobName,
    cron: string,
    enabled: boolean,
    work: () => Promise<Record<string, unknown>>,
  ): void {
    if (!this.config.jobs.enabled || !enabled) {
      this.logger.log(`schedule of ${job} is off`);
      return;
    }
    const cronJob = CronJob.from({
      cronTime: cron,
      timeZone: 'UTC',
      onTick: () => {
        void this.jobs.run(job, 'cron', work).catch((error: Error) => {
          this.logger.error(`cron run of ${job} could not start: ${error.message}`);
        });
      },
    });
    this.registry.addCronJob(job, cronJob);
    cronJob.start();
    this.logger.log(`scheduled ${job}: ${cron} (UTC)`);
  }
}
