import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module';
import { CommonModule } from '../common/common.module';
import { AuthModule } from '../auth/auth.module';
import { JobsModule } from '../jobs/jobs.module';
import { CacheAdminController } from './cache-admin.controller';
import { CacheFastPath } from './cache-fast-path';
import { CacheWarmer } from './cache-warm';
import { CacheRequestFactory } from './cache-request';
import { CacheInterceptor } from './cache.interceptor';
import { CacheService } from './cache.service';
import { RedisModule } from './redis.module';

/**
 * Cache-aside for read endpoints (the interceptor and the fast path) on the shared Redis
 * connection, and the hourly warming job (jobs runner).
 */
@Module({
  imports: [RedisModule, AuthModule, AuditModule, JobsModule, CommonModule],
  controllers: [CacheAdminController],
  providers: [
    CacheService,
    CacheRequestFactory,
    CacheFastPath,
    CacheWarmer,
    { provide: APP_INTERCEPTOR, useClass: CacheInterceptor },
  ],
  exports: [CacheService, CacheFastPath, CacheWarmer],
})
export class CacheModule {}
