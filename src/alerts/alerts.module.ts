import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { JobsModule } from '../jobs/jobs.module';
import { AlertClock } from './alert-clock';
import { AlertEvents } from './alert-events';
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
    AlertEvents,
    AlertsRepository,
    AlertsService,
    DeliveriesRepository,
    DeliveryService,
    EvaluatorService,
  ],
  exports: [AlertEvents, AlertClock, EvaluatorService, DeliveryService],
})
export class AlertsModule {}
