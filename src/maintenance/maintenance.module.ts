import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { JobsModule } from '../jobs/jobs.module';
import { MaintenanceController } from './maintenance.controller';
import { MaintenanceCron } from './maintenance.cron';
import { MaintenanceRepository } from './maintenance.repository';
import { MaintenanceService } from './maintenance.service';

/** Index and statistics maintenance. */
@Module({
  imports: [AuditModule, JobsModule],
  controllers: [MaintenanceController],
  providers: [MaintenanceService, MaintenanceRepository, MaintenanceCron],
  exports: [MaintenanceService],
})
export class MaintenanceModule {}
