import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { MAINTENANCE_TASKS, MaintenanceTask } from '../maintenance.service';

export class RunMaintenanceQueryDto {
  @ApiPropertyOptional({ enum: MAINTENANCE_TASKS, default: 'all' })
  @IsOptional()
  @IsIn(MAINTENANCE_TASKS, { message: `task must be one of ${MAINTENANCE_TASKS.join(', ')}` })
  task: MaintenanceTask = 'all';
}
