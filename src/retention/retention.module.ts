import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { JobsModule } from '../jobs/jobs.module';
import { MonitoringModule } from '../monitoring/monitoring.module';
import { TrendsModule } from '../trends/trends.module';
import { RetentionController } from './retention.controller';
import { RetentionCron } from './retention.cron';
import { RetentionRepository } from './retention.repository';
import { RetentionService } from './retention.service';

/** Retention policies and the partition job (premake, relocate, drop/archive, trim). */
@Module({
  imports: [AuditModule, JobsModule, TrendsModule, MonitoringModule],
  controllers: [RetentionController],
  providers: [RetentionService, RetentionRepository, RetentionCron],
  exports: [RetentionService],
})
export class RetentionModule {}
