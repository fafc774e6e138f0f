import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { RedisConnection } from '../cache/redis.connection';
import { RedisModule } from '../cache/redis.module';
import { THROTTLER_NAME } from './precounted';
import { RedisThrottlerStorage } from './throttler.storage';
import { AppThrottlerGuard, isIngestCaller, trackerOf } from './throttle.guard';

/**
 * Rate limiting (SPEC §9). Import after AuthModule: global guards run in registration order and
 * the tracker needs the authenticated subject.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [RedisModule],
      inject: [APP_CONFIG, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection) => ({
        throttlers: [
          {
            name: THROTTLER_NAME,
            ttl: config.throttle.ttlSeconds * 1000,
            limit: (context) =>
              isIngestCaller(context) ? config.throttle.ingestLimit : config.throttle.limit,
          },
        ],
        // One budget per caller across all routes, not per route.
        getTracker: (request) => trackerOf(request as Parameters<typeof trackerOf>[0]),
        generateKey: (_context, tracker) => tracker,
        storage: new RedisThrottlerStorage(redis, config.redis.keyPrefix, config.redis.opTimeoutMs),
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: AppThrottlerGuard }],
})
export class ThrottleModule {}
