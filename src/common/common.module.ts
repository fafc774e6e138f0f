import { Module } from '@nestjs/common';
import { LifecycleService } from './lifecycle.service';
import { RequestLog } from './request-log';

/**
 * The process's lifecycle phase (ready, stopping) for readiness and long-lived responses, and
 * the request log.
 */
@Module({ providers: [LifecycleService, RequestLog], exports: [LifecycleService, RequestLog] })
export class CommonModule {}
