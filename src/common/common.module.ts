import { Module } from '@nestjs/common';
import { LifecycleService } from './lifecycle.service';

/** The process's lifecycle phase (ready, stopping) for readiness and long-lived responses. */
@Module({ providers: [LifecycleService], exports: [LifecycleService] })
export class CommonModule {}
