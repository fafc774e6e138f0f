import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAINTENANCE_TASKS, MaintenanceTask } from '../maintenance.service';

export class RunMaintenanceQueryDto {
  @ApiPropertyOptional({ enum: MAINTENANCE_TASKS, default: 'all' })
  @IsOptional()
  @IsIn(MAINTENANCE_TASKS, { message: `task must be one of ${MAINTENANCE_TASKS.join(', ')}` })
  task: MaintenanceTask = 'all';
}

export class StatementsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be between 1 and 100' })
  @Max(100, { message: 'limit must be between 1 and 100' })
  limit: number = 20;
}
