import { cleanEnv } from 'envalid';
import { resolve } from 'node:path';
import { envSchema } from './env.schema';

export interface DatabaseConfig {
  /** `embedded` when neither DATABASE_URL nor DB_HOST is set. */
  mode: 'external' | 'embedded';
  url?: string;
  host: string;
  port: number;
  name: string;
  user: string;
  password: string;
  ssl: boolean;
  sslCaFile?: string;
  poolMax: number;
  read: ReadReplicasConfig;
  migrationsRun: boolean;
  statementTimeoutMs: number;
  /** Statements slower than this (ms) are logged and counted; 0 = off. */
  slowQueryMs: number;
  connectRetryMs: number;
  loadDemoData: boolean;
}

/**
 * Streaming read replicas (SPEC §14). Unset fields default to the primary's at connect time,
 * so they also follow an embedded or URL-configured primary.
 */
export interface ReadReplicasConfig {
  /** Host names (DB_READ_HOST), or full URLs (DATABASE_READ_URL); empty = no replicas. */
  hosts: string[];
  urls: string[];
  port?: number;
  user?: string;
  password?: string;
  name?: string;
  poolMax: number;
  maxLagMs: number;
}

export interface RedisConfig {
  /** undefined when no Redis is configured: the in-process cache is used. */
  url?: string;
  host?: string;
  port: number;
  password?: string;
  db: number;
  keyPrefix: string;
  ttlSeconds: number;
  required: boolean;
  opTimeoutMs: number;
  /** Bounds of the in-process cache used without Redis: entries and MB, whichever is hit first. */
  memoryMaxEntries: number;
  memoryMaxMb: number;
  /** Size of the in-process L1 in front of Redis (MB; 0 = off). */
  l1MaxMb: number;
  /** Sentinel-managed master (REDIS_SENTINELS + REDIS_SENTINEL_NAME). */
  sentinels: RedisNode[];
  sentinelName?: string;
  /** Redis Cluster seed nodes (REDIS_CLUSTER_NODES). */
  clusterNodes: RedisNode[];
  /** Answers of at least this many bytes are stored compressed (0 = never). */
  compressMinBytes: number;
}

export interface RedisNode {
  host: string;
  port: number;
}

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  metricsPort?: number;
  logLevel: string;
  dataDir: string;
  shutdownDelayMs: number;
  db: DatabaseConfig;
  redis: RedisConfig;
  ingest: {
    maxBatch: number;
    maxBodyBytes: number;
    maxFutureSkewMs: number;
    /** PLATFORMS allow-list, lower-case; empty = any valid slug. */
    platforms: string[];
  };
  jwt: { secret?: string; publicKey?: string; issuer?: string; audience?: string };
  throttle: { ttlSeconds: number; limit: number; ingestLimit: number };
  corsOrigins: string[];
  jobs: {
    enabled: boolean;
    partitions: { enabled: boolean; cron: string };
    indexMaintenance: { enabled: boolean; cron: string };
    /** Cache warming at each hour's start (`top:<window>` / `overview:24h` entries). */
    cacheWarm: { enabled: boolean; cron: string; queries: string[] };
  };
  retention: { partitionPremake: number; archive: boolean; lockTimeoutMs: number };
  maintenance: { bloatThresholdPercent: number; bloatMinBytes: number; lockTimeoutMs: number };
  backup: {
    dir: string;
    encryptionKey?: string;
    enabled: boolean;
    cron: string;
    verify: boolean;
    keepDaily: number;
    keepWeekly: number;
    keepMonthly: number;
    pgBinDir?: string;
    /** Off-site copies (SPEC §15); undefined when BACKUP_S3_BUCKET is unset. */
    s3?: {
      bucket: string;
      endpoint?: string;
      region: string;
      prefix: string;
      accessKeyId?: string;
      secretAccessKey?: string;
      forcePathStyle: boolean;
    };
  };
  analytics: { statementTimeoutMs: number; maxRangeDays: number; maxBuckets: number };
  /** dir undefined = the installation's dist/web (see src/dashboard/). */
  dashboard: { enabled: boolean; dir?: string };
  stream: {
    topIntervalS: number;
    retention: number;
    maxConnections: number;
    clientBuffer: number;
    heartbeatS: number;
  };
  alerts: {
    evalIntervalS: number;
    maxSeriesPerRule: number;
    deliveryBaseDelayMs: number;
    deliveryMaxAttempts: number;
    deliveryEnabled: boolean;
    deliveryPollMs: number;
    allowPrivateTargets: boolean;
  };
}

export class ConfigError extends Error {}

/**
 * Loads and validates the whole configuration once. Every invalid variable is named in one
 * error, so an operator fixes them all in one pass. Used by Nest, ormconfig.ts and the CLIs.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const env = cleanEnv(source, envSchema, {
    reporter: ({ errors }) => {
      for (const [name, error] of Object.entries(errors)) {
        problems.push(`${name}: ${(error as Error).message}`);
      }
    },
  });
  problems.push(...crossChecks(env));
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }

  const embedded = !env.DATABASE_URL && !env.DB_HOST;
  return {
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    logLevel: env.LOG_LEVEL,
    dataDir: resolve(env.DATA_DIR),
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    db: {
      mode: embedded ? 'embedded' : 'external',
      url: env.DATABASE_URL,
      host: env.DB_HOST ?? '127.0.0.1',
      port: env.DB_PORT,
      name: env.DB_NAME,
      user: env.DB_USER,
      password: env.DB_PASSWORD,
      ssl: env.DB_SSL,
      sslCaFile: env.DB_SSL_CA,
      poolMax: env.DB_MAX_CONNECTIONS ?? env.DB_POOL_MAX ?? 4,
      read: {
        hosts: splitList(env.DB_READ_HOST),
        urls: splitList(env.DATABASE_READ_URL),
        port: env.DB_READ_PORT,
        user: env.DB_READ_USER,
        password: env.DB_READ_PASSWORD,
        name: env.DB_READ_NAME,
        poolMax: env.DB_READ_POOL_MAX,
        maxLagMs: env.DB_READ_MAX_LAG_MS,
      },
      migrationsRun: env.DB_MIGRATIONS_RUN,
      statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
      slowQueryMs: env.DB_SLOW_QUERY_MS,
      connectRetryMs: env.DB_CONNECT_RETRY_MS,
      loadDemoData: env.DEMO_DATA ?? embedded,
    },
    redis: {
      url: env.REDIS_URL,
      host: env.REDIS_HOST,
      port: env.REDIS_PORT,
      password: env.REDIS_PASSWORD,
      db: env.REDIS_DB,
      keyPrefix: env.REDIS_KEY_PREFIX,
      ttlSeconds: env.REDIS_TTL,
      required: env.REDIS_REQUIRED,
      opTimeoutMs: env.CACHE_OP_TIMEOUT_MS,
      memoryMaxEntries: env.CACHE_MEMORY_MAX_ENTRIES,
      memoryMaxMb: env.CACHE_MEMORY_MAX_MB,
      l1MaxMb: env.CACHE_L1_MAX_MB,
      sentinels: parseNodes(env.REDIS_SENTINELS),
      sentinelName: env.REDIS_SENTINEL_NAME,
      clusterNodes: parseNodes(env.REDIS_CLUSTER_NODES),
      compressMinBytes: env.CACHE_COMPRESS_MIN_BYTES,
    },
    ingest: {
      maxBatch: env.INGEST_MAX_BATCH,
      maxBodyBytes: env.INGEST_MAX_BODY,
      maxFutureSkewMs: env.INGEST_MAX_FUTURE_SKEW,
      platforms: [
        ...new Set(
          env.PLATFORMS.split(',')
            .map((slug) => slug.trim().toLowerCase())
            .filter(Boolean),
        ),
      ],
    },
    jwt: {
      secret: env.JWT_SECRET,
      publicKey: env.JWT_PUBLIC_KEY,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
    },
    throttle: {
      ttlSeconds: env.THROTTLE_TTL,
      limit: env.THROTTLE_LIMIT,
      ingestLimit: env.THROTTLE_INGEST_LIMIT,
    },
    corsOrigins: env.CORS_ORIGINS.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    jobs: {
      enabled: env.JOBS_ENABLED,
      partitions: { enabled: env.JOB_PARTITIONS_ENABLED, cron: env.JOB_PARTITIONS_CRON },
      indexMaintenance: {
        enabled: env.JOB_INDEX_MAINTENANCE_ENABLED,
        cron: env.JOB_INDEX_MAINTENANCE_CRON,
      },
      cacheWarm: {
        enabled: env.JOB_CACHE_WARM_ENABLED,
        cron: env.JOB_CACHE_WARM_CRON,
        queries: splitList(env.CACHE_WARM_QUERIES),
      },
    },
    retention: {
      partitionPremake: env.PARTITION_PREMAKE,
      archive: env.RETENTION_ARCHIVE,
      lockTimeoutMs: env.RETENTION_LOCK_TIMEOUT_MS,
    },
    maintenance: {
      bloatThresholdPercent: env.INDEX_BLOAT_THRESHOLD_PERCENT,
      bloatMinBytes: env.INDEX_BLOAT_MIN_BYTES,
      lockTimeoutMs: env.MAINTENANCE_LOCK_TIMEOUT_MS,
    },
    backup: {
      dir: resolve(env.BACKUP_DIR),
      encryptionKey: env.BACKUP_ENCRYPTION_KEY,
      enabled: env.BACKUP_ENABLED,
      cron: env.BACKUP_CRON,
      verify: env.BACKUP_VERIFY,
      keepDaily: env.BACKUP_KEEP_DAILY,
      keepWeekly: env.BACKUP_KEEP_WEEKLY,
      keepMonthly: env.BACKUP_KEEP_MONTHLY,
      pgBinDir: env.PG_BIN_DIR,
      s3: env.BACKUP_S3_BUCKET
        ? {
            bucket: env.BACKUP_S3_BUCKET,
            endpoint: env.BACKUP_S3_ENDPOINT,
            region: env.BACKUP_S3_REGION,
            prefix: env.BACKUP_S3_PREFIX,
            accessKeyId: env.BACKUP_S3_ACCESS_KEY_ID,
            secretAccessKey: env.BACKUP_S3_SECRET_ACCESS_KEY,
            forcePathStyle: env.BACKUP_S3_FORCE_PATH_STYLE,
          }
        : undefined,
    },
    analytics: {
      statementTimeoutMs: env.ANALYTICS_STATEMENT_TIMEOUT_MS,
      maxRangeDays: env.ANALYTICS_MAX_RANGE_DAYS,
      maxBuckets: env.ANALYTICS_MAX_BUCKETS,
    },
    dashboard: {
      enabled: env.DASHBOARD_ENABLED,
      dir: env.DASHBOARD_DIR === undefined ? undefined : resolve(env.DASHBOARD_DIR),
    },
    stream: {
      topIntervalS: env.STREAM_TOP_INTERVAL_S,
      retention: env.STREAM_RETENTION,
      maxConnections: env.STREAM_MAX_CONNECTIONS,
      clientBuffer: env.STREAM_CLIENT_BUFFER,
      heartbeatS: env.STREAM_HEARTBEAT_S,
    },
    alerts: {
      evalIntervalS: env.ALERTS_EVAL_INTERVAL_S,
      maxSeriesPerRule: env.ALERTS_MAX_SERIES_PER_RULE,
      deliveryBaseDelayMs: env.ALERTS_DELIVERY_BASE_DELAY_MS,
      deliveryMaxAttempts: env.ALERTS_DELIVERY_MAX_ATTEMPTS,
      deliveryEnabled: env.ALERTS_DELIVERY_ENABLED,
      deliveryPollMs: env.ALERTS_DELIVERY_POLL_MS,
      allowPrivateTargets: env.ALERTS_ALLOW_PRIVATE_TARGETS ?? env.NODE_ENV !== 'production',
    },
  };
}

type CleanEnv = ReturnType<typeof cleanEnv<typeof envSchema>>;

/** Rules that involve more than one variable. */
function crossChecks(env: CleanEnv): string[] {
  const problems: string[] = [];
  if (
    (env.BACKUP_S3_ACCESS_KEY_ID === undefined) !==
    (env.BACKUP_S3_SECRET_ACCESS_KEY === undefined)
  )
    problems.push('BACKUP_S3_ACCESS_KEY_ID / BACKUP_S3_SECRET_ACCESS_KEY: set both or neither');
  if (env.JWT_SECRET !== undefined && Buffer.byteLength(env.JWT_SECRET) < 32) {
    problems.push('JWT_SECRET: must be at least 32 bytes');
  }
  if (env.NODE_ENV === 'production' && !env.JWT_SECRET && !env.JWT_PUBLIC_KEY) {
    problems.push('JWT_SECRET: required when NODE_ENV=production');
  }
  if (env.DATABASE_URL && !/^postgres(ql)?:\/\//.test(env.DATABASE_URL)) {
    problems.push('DATABASE_URL: must start with postgres:// or postgresql://');
  }
  // Empty means unset (as for DB_HOST); a list of only commas and blanks is a mistake.
  if (env.DB_READ_HOST?.trim() && splitList(env.DB_READ_HOST).length === 0) {
    problems.push('DB_READ_HOST: must list at least one host');
  }
  for (const url of splitList(env.DATABASE_READ_URL)) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      problems.push('DATABASE_READ_URL: each URL must start with postgres:// or postgresql://');
      break;
    }
  }
  if (env.DB_READ_HOST && env.DATABASE_READ_URL) {
    problems.push('DATABASE_READ_URL: set either DATABASE_READ_URL or DB_READ_HOST, not both');
  }
  if (env.REDIS_URL && !/^rediss?:\/\//.test(env.REDIS_URL)) {
    problems.push('REDIS_URL: must start with redis:// or rediss://');
  }
  problems.push(...redisTopologyProblems(env));
  if (
    env.BACKUP_ENCRYPTION_KEY !== undefined &&
    Buffer.from(env.BACKUP_ENCRYPTION_KEY, 'base64').length !== 32
  ) {
    problems.push('BACKUP_ENCRYPTION_KEY: must be 32 bytes, base64-encoded');
  }
  return problems;
}

const NODE = /^([^\s:,]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/;

/** `host:port,host:port` → nodes (entries already validated by redisTopologyProblems). */
function parseNodes(value: string | undefined): RedisNode[] {
  return splitList(value).map((entry) => {
    const match = NODE.exec(entry) as RegExpExecArray;
    return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
  });
}

/** Standalone (REDIS_URL / REDIS_HOST), Sentinel or Cluster: exactly one, each complete. */
function redisTopologyProblems(env: CleanEnv): string[] {
  const problems: string[] = [];
  for (const name of ['REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const) {
    const value = env[name];
    if (value === undefined) continue;
    const entries = splitList(value);
    if (entries.length === 0) problems.push(`${name}: must list at least one host:port`);
    for (const entry of entries) {
      const match = NODE.exec(entry);
      if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
        problems.push(`${name}: "${entry}" is not host:port`);
      }
    }
  }
  const chosen = [
    env.REDIS_URL !== undefined || env.REDIS_HOST !== undefined ? 'REDIS_URL/REDIS_HOST' : null,
    env.REDIS_SENTINELS !== undefined ? 'REDIS_SENTINELS' : null,
    env.REDIS_CLUSTER_NODES !== undefined ? 'REDIS_CLUSTER_NODES' : null,
  ].filter((name): name is string => name !== null);
  if (chosen.length > 1) {
    problems.push(`${chosen[chosen.length - 1]}: set only one of ${chosen.join(', ')}`);
  }
  if (env.REDIS_SENTINELS !== undefined && !env.REDIS_SENTINEL_NAME) {
    problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS');
  }
  if (env.REDIS_SENTINEL_NAME !== undefined && env.REDIS_SENTINELS === undefined) {
    problems.push('REDIS_SENTINELS: required with REDIS_SENTINEL_NAME');
  }
  // The service's hash tags ({v}, {stream}, ...) must be the first braces of every key.
  if (env.REDIS_CLUSTER_NODES !== undefined && /[{}]/.test(env.REDIS_KEY_PREFIX)) {
    problems.push('REDIS_KEY_PREFIX: must not contain { or } with REDIS_CLUSTER_NODES');
  }
  return problems;
}

/** Comma-separated values, trimmed, empty entries dropped. */
function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** True when read replicas are configured (SPEC §14). */
export function hasReadReplicas(db: DatabaseConfig): boolean {
  return db.read.hosts.length > 0 || db.read.urls.length > 0;
}

/** True when a Redis server is configured (otherwise the in-process cache is used). */
export function hasRedis(redis: RedisConfig): boolean {
  return Boolean(
    redis.url || redis.host || redis.sentinels.length > 0 || redis.clusterNodes.length > 0,
  );
}
