import { Logger } from '@nestjs/common';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { withTimeout } from '../common/with-timeout';
import { RedisConnection } from '../cache/redis.connection';
import { THROTTLER_NAME, ThrottlerStorageRecord, throttleCounterKey } from './precounted';

/**
 * Rate-limit counters in Redis (one atomic script: INCR + PEXPIRE + block flag), so every
 * replica shares each limit. Fixed windows of `ttl`; a caller over the limit is blocked for
 * `blockDuration`. While Redis is unreachable, counting falls back to this process's memory
 * (limits then hold per replica) instead of failing requests.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('Throttler');
  private readonly fallback = new ThrottlerStorageService();
  private degraded = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const client = this.redis.client;
    if (!client || !this.redis.available) {
      return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
    }
    const counter =
      throttlerName === THROTTLER_NAME
        ? throttleCounterKey(this.prefix, key)
        : `${this.prefix}{v}:throttle:${throttlerName}:${key}`;
    try {
      const [hits, windowMs, blockedMs] = await withTimeout(
        client.trendThrottle(counter, `${counter}:blocked`, ttl, limit, blockDuration),
        this.timeoutMs,
        'rate-limit counter timed out',
      );
      if (this.degraded) this.logger.log('rate limits are shared through Redis again');
      this.degraded = false;
      return {
        totalHits: hits,
        timeToExpire: Math.ceil(windowMs / 1000),
        isBlocked: blockedMs > 0,
        timeToBlockExpire: Math.ceil(blockedMs / 1000),
      };
    } catch (error) {
      this.redis.reportFailure();
      if (!this.degraded) {
        this.logger.warn(
          `Redis unavailable for rate limits (${(error as Error).message}); counting per process`,
        );
      }
      this.degraded = true;
      return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }
}
