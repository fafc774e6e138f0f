import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';

const KEEP_DAYS = 'keepDays must be an integer from 1 to 36500';

export class UpdatePolicyDto {
  @ApiProperty({ minimum: 1, maximum: 36500, example: 90 })
  @IsInt({ message: KEEP_DAYS })
  @Min(1, { message: KEEP_DAYS })
  @Max(36500, { message: KEEP_DAYS })
  keepDays!: number;

  @ApiPropertyOptional({ description: 'Omit to keep the current switch' })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}
