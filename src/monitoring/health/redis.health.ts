import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { CacheService } from '../../cache/cache.service';

/**
 * Redis as seen by the cache (a PING under the cache's own op timeout). Without a configured
 * Redis the in-process cache is used and the check is up with `mode: memory`.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly cache: CacheService,
  ) {}

  async check(key = 'redis') {
    const indicator = this.indicators.check(key);
    const health = await this.cache.health();
    if (!health.configured) return indicator.up({ mode: 'memory', configured: false });
    return health.connected
      ? indicator.up({ mode: 'redis', latencyMs: health.latencyMs })
      : indicator.down({ mode: 'redis', message: health.error ?? 'not connected' });
  }
}
