import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { JobsModule } from '../jobs/jobs.module';
import { AlertClock } from './alert-clock';
import { AlertsController } from './alerts.controller';
import { AlertsRepository } from './alerts.repository';
import { AlertsService } from './alerts.service';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveryService } from './delivery.service';
import { EvaluatorService } from './evaluator.service';

/** Alert rules, evaluation, state, history, channels and signed webhook delivery (SPEC §12). */
@Module({
  imports: [AuditModule, JobsModule],
  controllers: [AlertsController],
  providers: [
    AlertClock,
    AlertsRepository,
    AlertsService,
    DeliveriesRepository,
    DeliveryService,
    EvaluatorService,
  ],
  exports: [AlertClock, EvaluatorService, DeliveryService],
})
export class AlertsModule {}
