import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TrendsModule } from '../trends/trends.module';
import { CacheAdminController } from './cache-admin.controller';
import { CacheFastPath } from './cache-fast-path';
import { CacheWarmer } from './cache-warm';
import { CacheRequestFactory } from './cache-request';
import { CacheInterceptor } from './cache.interceptor';
import { CacheService } from './cache.service';
import { RedisConnection } from './redis.connection';

/** Cache-aside for read endpoints, plus the shared Redis connection (also used by the rate limiter). */
@Global()
@Module({
  imports: [TrendsModule],
  controllers: [CacheAdminController],
  providers: [
    RedisConnection,
    CacheService,
    CacheRequestFactory,
    CacheFastPath,
    CacheWarmer,
    { provide: APP_INTERCEPTOR, useClass: CacheInterceptor },
  ],
  exports: [RedisConnection, CacheService, CacheFastPath, CacheWarmer],
})
export class CacheModule {}
