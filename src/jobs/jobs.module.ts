import { Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { JobScheduler } from './job-scheduler';
import { JobsController } from './jobs.controller';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

/** The job runner every scheduled or manual operation goes through. */
@Global()
@Module({
  imports: [ScheduleModule.forRoot()],
  controllers: [JobsController],
  providers: [JobsService, JobsRepository, JobScheduler],
  exports: [JobsService, JobScheduler, JobsRepository],
})
export class JobsModule {}
