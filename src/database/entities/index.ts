import {
  AlertEventRow,
  AlertInstance,
  AlertRule,
  AlertSilence,
  NotificationChannel,
  NotificationDelivery,
  NotificationDeliveryAttempt,
} from './alerts.entity';
import { AdminAuditLog, Backup, JobRun, RetentionPolicy } from './operations.entity';
import { TrendCatalog } from './trend-catalog.entity';
import { TrendDisplayName } from './trend-display-name.entity';
import { TrendObservation } from './trend-observation.entity';
import { TrendRollupDaily, TrendRollupHourly } from './trend-rollup.entity';

export * from './alerts.entity';
export * from './operations.entity';
export * from './trend-catalog.entity';
export * from './trend-display-name.entity';
export * from './trend-observation.entity';
export * from './trend-rollup.entity';

export const ENTITIES = [
  TrendObservation,
  TrendRollupHourly,
  TrendRollupDaily,
  TrendCatalog,
  TrendDisplayName,
  RetentionPolicy,
  JobRun,
  Backup,
  AdminAuditLog,
  AlertRule,
  AlertInstance,
  AlertEventRow,
  NotificationChannel,
  NotificationDelivery,
  NotificationDeliveryAttempt,
  AlertSilence,
];
