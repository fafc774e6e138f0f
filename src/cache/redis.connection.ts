import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import Redis, { RedisOptions } from 'ioredis';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig, hasRedis } from '../config/config';
import { emitEvent } from '../common/events';
import { withTimeout } from '../common/with-timeout';
import { createRedisClient } from './redis-client.factory';

/** Reads the version keys of a query, creating missing ones with a fresh token (see cache.service.ts). */
const VERSIONS_LUA = `
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if not v then
    v = ARGV[i]
    redis.call('SET', key, v, 'EX', ARGV[#KEYS + 1])
  end
  out[i] = v
end
return out`;

/**
 * Fixed-window counter for the rate limiter (KEYS[1] counter, KEYS[2] block flag; ARGV[1]
 * window ms, ARGV[2] limit, ARGV[3] block ms): leaves hits, window ms left, block ms left.
 */
const THROTTLE_STEP_LUA = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
local blocked = redis.call('PTTL', KEYS[2])
if blocked <= 0 and hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  blocked = tonumber(ARGV[3])
end
if blocked < 0 then blocked = 0 end`;

/** Fixed-window counter for the rate limiter: hits, window ms left, block ms left. */
const THROTTLE_LUA = `${THROTTLE_STEP_LUA}
return {hits, ttl, blocked}`;

/**
 * The cache fast path's one round trip: the rate-limit step above, then the version tokens of
 * KEYS[3..] (ARGV[4] their TTL, ARGV[5..] fresh tokens), created where missing as VERSIONS_LUA
 * does. Returns {hits, window ms left, block ms left, token...}.
 */
const FAST_HIT_LUA = `${THROTTLE_STEP_LUA}
local out = {hits, ttl, blocked}
for i = 3, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then
    v = ARGV[i + 2]
    redis.call('SET', KEYS[i], v, 'EX', ARGV[4])
  end
  out[i + 1] = v
end
return out`;

export interface ScriptedRedis extends Redis {
  trendVersions(...args: Array<string | number>): Promise<string[]>;
  trendThrottle(...args: Array<string | number>): Promise<[number, number, number]>;
  trendFastHit(...args: Array<string | number>): Promise<[number, number, number, ...string[]]>;
}

/** How long callers skip Redis after a failed call. */
const FAILURE_PAUSE_MS = 1000;

/** Each time the connection becomes usable (again); listeners must not block. */
export const REDIS_READY = 'redis.ready';

declare module '../common/events' {
  interface AppEvents {
    [REDIS_READY]: undefined;
  }
}

/**
 * The one Redis connection of the process (cache, rate limiter, replica write position), or
 * none when Redis is not configured. Tuned to fail fast while Redis is away: no offline queue
 * (commands reject at once instead of piling up), a per-command timeout, and endless
 * background reconnects.
 */
@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: ScriptedRedis | null;
  private outageLogged = false;
  private pausedUntil = 0;
  private writesCorked = false;
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: EventEmitter2,
  ) {
    this.client = hasRedis(config.redis) ? this.create() : null;
  }

  get configured(): boolean {
    return this.client !== null;
  }

  /**
   * False for a moment after any call (cache or rate limiter) failed or timed out: the other
   * callers then skip Redis at once instead of each waiting out its own timeout on a Redis that
   * hangs. Reconnection goes on in the background; a 'ready' ends the pause early.
   */
  get available(): boolean {
    return this.client !== null && Date.now() >= this.pausedUntil;
  }

  reportFailure(): void {
    this.pausedUntil = Date.now() + FAILURE_PAUSE_MS;
  }

  get ready(): boolean {
    return this.client?.status === 'ready';
  }

  async onModuleInit(): Promise<void> {
    const client = this.client;
    if (!client || this.ready) return;
    // Give the first connection a moment so the first requests can use the cache; never block start-up on it.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    try {
      await withTimeout(this.client.quit(), 500, 'quit timed out');
    } catch {
      this.client.disconnect();
    }
  }

  /**
   * Sends the commands issued from now to the end of this event-loop turn in one socket write
   * (Node's cork/uncork) instead of one write system call each. Under load many cache hits are
   * parsed per turn, and on loopback each write also pays for waking Redis: one write per turn
   * saved ≈ 20 µs of CPU per cached answer (bench/query.bench.ts). ioredis's auto-pipelining
   * batches too, but its per-command bookkeeping cost about as much as it saved. A Cluster
   * client has a socket per node and is left as it is.
   */
  coalesceWritesThisTurn(): void {
    const stream = (this.client as Partial<Pick<Redis, 'stream'>> | null)?.stream;
    if (this.writesCorked || !stream) return;
    stream.cork();
    this.writesCorked = true;
    setImmediate(() => {
      this.writesCorked = false;
      stream.uncork();
    });
  }

  private create(): ScriptedRedis {
    const { redis } = this.config;
    const options: RedisOptions = {
      password: redis.password,
      db: redis.db,
      enableOfflineQueue: false,
      commandTimeout: Math.max(redis.opTimeoutMs, 1),
      connectTimeout: 1000,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      lazyConnect: false,
      // Off: coalesceWritesThisTurn() batches the hot path's writes for less (see there).
      enableAutoPipelining: false,
    };
    const client = createRedisClient(redis, options) as ScriptedRedis;
    client.defineCommand('trendVersions', { lua: VERSIONS_LUA });
    client.defineCommand('trendThrottle', { numberOfKeys: 2, lua: THROTTLE_LUA });
    client.defineCommand('trendFastHit', { lua: FAST_HIT_LUA });
    // Without an 'error' listener ioredis would raise an unhandled 'error' event and crash the process.
    client.on('error', (error: Error) => {
      if (this.outageLogged) return;
      this.outageLogged = true;
      this.logger.warn(
        `Redis unavailable (${error.message}); serving from the database until it returns`,
      );
    });
    client.on('ready', () => {
      this.pausedUntil = 0;
      if (this.outageLogged) this.logger.log('Redis connection restored');
      this.outageLogged = false;
      emitEvent(this.events, REDIS_READY, undefined);
    });
    return client;
  }
}
