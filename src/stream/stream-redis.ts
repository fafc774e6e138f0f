import { Logger } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { RedisConfig } from '../config/config';
import { createRedisClient } from '../cache/redis-client.factory';

/**
 * The live stream's own Redis connections: one for commands, one for the blocking XREAD. The
 * cache's shared connection times commands out after CACHE_OP_TIMEOUT_MS, which a blocking read
 * or a 10,000-event replay would trip. Both fail fast while Redis is away and reconnect by
 * themselves.
 */
export function createStreamRedis(redis: RedisConfig, blocking: boolean): Redis {
  const logger = new Logger(blocking ? 'StreamReader' : 'StreamRedis');
  const options: RedisOptions = {
    password: redis.password,
    db: redis.db,
    enableOfflineQueue: false,
    // A blocked XREAD legitimately waits; every other command is answered quickly or not at all.
    commandTimeout: blocking ? undefined : 2000,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    connectionName: blocking ? 'trend-stream-reader' : 'trend-stream',
  };
  const client = createRedisClient(redis, options);
  let logged = false;
  // Without an 'error' listener ioredis would crash the process on an outage.
  client.on('error', (error: Error) => {
    if (logged) return;
    logged = true;
    logger.warn(`Redis unavailable (${error.message})`);
  });
  client.on('ready', () => (logged = false));
  return client;
}
