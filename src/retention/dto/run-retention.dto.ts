import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';

/** Query strings carry text: only the literal words true/false are booleans. */
export const queryBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class RunRetentionQueryDto {
  @ApiPropertyOptional({ default: false, description: 'true: return the plan, change nothing' })
  @IsOptional()
  @Transform(queryBoolean)
  @IsBoolean({ message: 'dryRun must be true or false' })
  dryRun: boolean = false;
}
