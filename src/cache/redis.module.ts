import { Module } from '@nestjs/common';
import { RedisConnection } from './redis.connection';

/**
 * The process's one Redis connection, shared by the cache, the rate limiter and the replica
 * write position. Its own module so those can import it without importing the whole cache.
 */
@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}
