import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AuditModule } from '../audit/audit.module';
import { JobScheduler } from './job-scheduler';
import { JobsController } from './jobs.controller';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

/** The job runner every scheduled or manual operation goes through. */
@Module({
  imports: [ScheduleModule.forRoot(), AuditModule],
  controllers: [JobsController],
  providers: [JobsService, JobsRepository, JobScheduler],
  exports: [JobsService, JobScheduler, JobsRepository],
})
export class JobsModule {}
