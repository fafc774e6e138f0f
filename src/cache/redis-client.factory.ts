import Redis, { Cluster, RedisOptions } from 'ioredis';
import { RedisConfig } from '../config/config';

/**
 * Every Redis connection of the service is opened here, so each one honours the configured
 * topology: a single server (REDIS_URL / REDIS_HOST), a Sentinel-managed master
 * (REDIS_SENTINELS + REDIS_SENTINEL_NAME) or a Redis Cluster (REDIS_CLUSTER_NODES).
 *
 * `options` are the caller's per-connection settings (timeouts, offline queue, retry); the
 * factory adds the addresses and credentials. A Cluster client speaks the same command
 * interface as a single connection (keys are routed by hash slot), so it is returned typed as
 * `Redis`; the few whole-server operations (SCAN, INFO) go through `masterNodes()`.
 */
export function createRedisClient(redis: RedisConfig, options: RedisOptions): Redis {
  const retry = options.retryStrategy ?? ((attempt: number) => Math.min(attempt * 100, 2000));
  if (redis.clusterNodes.length > 0) {
    // A cluster has no databases: REDIS_DB does not apply.
    const { db: _db, retryStrategy: _retry, enableOfflineQueue, ...nodeOptions } = options;
    const cluster = new Cluster(redis.clusterNodes, {
      redisOptions: nodeOptions,
      enableOfflineQueue: enableOfflineQueue ?? true,
      clusterRetryStrategy: (attempt) => retry(attempt) ?? 2000,
      // Reads go to the masters: a replica may lag behind a version bump (exactness).
      scaleReads: 'master',
      slotsRefreshTimeout: 2000,
    });
    return cluster as unknown as Redis;
  }
  if (redis.sentinels.length > 0) {
    return new Redis({
      ...options,
      sentinels: redis.sentinels,
      name: redis.sentinelName,
      // Keep asking the Sentinels forever: a failover may take longer than any fixed budget.
      // (No `failoverDetector`: Redis drops every client on a failover anyway, and its extra
      // Sentinel connections are not closed on quit — ioredis issue 1362.)
      sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    });
  }
  return redis.url
    ? new Redis(redis.url, options)
    : new Redis({ ...options, host: redis.host, port: redis.port });
}

export function isCluster(client: Redis): boolean {
  return (client as unknown) instanceof Cluster;
}

/**
 * The connections that together hold every key: the masters of a cluster, or the client
 * itself. SCAN and INFO must run on each of them.
 */
export function masterNodes(client: Redis): Redis[] {
  return isCluster(client) ? (client as unknown as Cluster).nodes('master') : [client];
}
