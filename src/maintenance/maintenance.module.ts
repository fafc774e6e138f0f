import { Module } from '@nestjs/common';
import { MaintenanceController } from './maintenance.controller';
import { MaintenanceCron } from './maintenance.cron';
import { MaintenanceRepository } from './maintenance.repository';
import { MaintenanceService } from './maintenance.service';

/** Index and statistics maintenance. */
@Module({
  controllers: [MaintenanceController],
  providers: [MaintenanceService, MaintenanceRepository, MaintenanceCron],
  exports: [MaintenanceService],
})
export class MaintenanceModule {}
