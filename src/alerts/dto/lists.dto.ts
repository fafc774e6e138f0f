import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { DELIVERY_STATUSES } from '../deliveries.repository';

const LIMIT = 'limit must be an integer from 1 to 500';

class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT })
  @Min(1, { message: LIMIT })
  @Max(500, { message: LIMIT })
  limit: number = 50;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString({ message: 'cursor must be a nextCursor value from a previous page' })
  cursor?: string;
}

export class EventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only this rule' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'ruleId must be a rule id' })
  ruleId?: string;

  @ApiPropertyOptional({ description: 'Only events at or after this time (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 timestamp' })
  since?: string;
}

export class DeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only this channel' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'channelId must be a channel id' })
  channelId?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES, { message: `status must be one of ${DELIVERY_STATUSES.join(', ')}` })
  status?: string;
}

class ActiveRuleView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() severity!: string;
  @ApiProperty() kind!: string;
}

export class ActiveAlertView {
  @ApiProperty({ type: ActiveRuleView }) rule!: ActiveRuleView;
  @ApiProperty() trendKey!: string;
  @ApiProperty({ nullable: true, type: String }) platform!: string | null;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
  @ApiProperty({ nullable: true, type: Number }) value!: number | null;
  @ApiProperty() threshold!: number;
  @ApiProperty({ enum: ['pending', 'firing', 'recovering'] }) state!: string;
  @ApiProperty() since!: string;
}

export class ActiveAlertListView {
  @ApiProperty({ type: [ActiveAlertView] }) items!: ActiveAlertView[];
}

export class AlertEventView {
  @ApiProperty() id!: string;
  @ApiProperty() ruleId!: string;
  @ApiProperty() ruleName!: string;
  @ApiProperty() severity!: string;
  @ApiProperty() trendKey!: string;
  @ApiProperty({ nullable: true, type: String }) platform!: string | null;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
  @ApiProperty() previousState!: string;
  @ApiProperty() state!: string;
  @ApiProperty({ nullable: true, type: Number }) value!: number | null;
  @ApiProperty() threshold!: number;
  @ApiProperty() since!: string;
  @ApiProperty() at!: string;
  @ApiProperty({ nullable: true, type: String, description: 'alert.firing / resolved / repeat' })
  notification!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'silence <id> or quiet_hours' })
  suppressed!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'rule_edited / rule_deleted' })
  reason!: string | null;
}

export class AlertEventPageView {
  @ApiProperty({ type: [AlertEventView] }) items!: AlertEventView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

class AttemptView {
  @ApiProperty() attempt!: number;
  @ApiProperty() at!: string;
  @ApiProperty({ nullable: true, type: Number }) statusCode!: number | null;
  @ApiProperty() latencyMs!: number;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ nullable: true, type: String }) nextAttemptAt!: string | null;
}

export class DeliveryView {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'webhook-id header, the same on every attempt' }) webhookId!: string;
  @ApiProperty({ nullable: true, type: String }) eventId!: string | null;
  @ApiProperty() channelId!: string;
  @ApiProperty() type!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String }) nextAttemptAt!: string | null;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode!: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({ type: [AttemptView] }) attemptLog!: AttemptView[];
}

export class DeliveryPageView {
  @ApiProperty({ type: [DeliveryView] }) items!: DeliveryView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
