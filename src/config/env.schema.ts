import { CronTime } from 'cron';
import { bool, makeValidator, port, str } from 'envalid';

/** Parses an integer and enforces a lower bound, so "-1" or "1.5" name the variable. */
const int = (min: number) =>
  makeValidator<number>((input) => {
    const value = Number(input);
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`must be an integer >= ${min}`);
    }
    return value;
  });

const UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2 };

/** Byte sizes: plain bytes or `10MiB` / `512kb`. */
export const bytes = makeValidator<number>((input) => {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(input);
  const factor = match ? UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || factor === undefined) throw new Error('must be bytes, e.g. 10485760 or 10MiB');
  return Number(match[1]) * factor;
});

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Durations in milliseconds: `5m`, `300s`, `1500ms`, `1d`, or plain seconds. */
export function parseDuration(input: string): number {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!match) throw new Error('must be a duration such as 300s, 5m or 1h');
  return Number(match[1]) * DURATION_UNITS[match[2] ?? 's'];
}

export const duration = makeValidator<number>(parseDuration);

/** An http(s) URL (S3 endpoints). */
const httpUrl = makeValidator<string>((input) => {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new Error('must be an http(s) URL, e.g. https://s3.example.com');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error('must be an http(s) URL, e.g. https://s3.example.com');
  return input;
});

/** An S3 key prefix: empty, or segments of safe characters ending in "/". */
const s3Prefix = makeValidator<string>((input) => {
  if (input !== '' && !/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/.test(input))
    throw new Error('must be empty or like "backups/trend-service/" (ends with /, no "//")');
  return input;
});

/** Cron expressions, parsed by the scheduler's own parser so a bad one fails here, named. */
export const cron = makeValidator<string>((input) => {
  const fields = input.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) throw new Error('must be a cron expression');
  try {
    new CronTime(input.trim());
  } catch (error) {
    throw new Error(`must be a valid cron expression (${(error as Error).message})`);
  }
  return input.trim();
});

/** Warmable live queries: `top:<window>` (any named window) or `overview:24h` (its default range). */
export const WARM_QUERY = /^(top:(?:1h|6h|24h|7d|30d|90d)|overview:24h)$/;
export const warmQueryList = makeValidator<string>((input) => {
  const entries = input
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!WARM_QUERY.test(entry)) {
      throw new Error(`"${entry}" is not top:<1h|6h|24h|7d|30d|90d> or overview:24h`);
    }
  }
  return entries.join(',');
});

/** Comma-separated platform slugs; each must be a valid slug (^[a-z0-9_-]{1,32}$ in any case). */
export const platformList = makeValidator<string>((input) => {
  const bad = input
    .split(',')
    .map((slug) => slug.trim())
    .filter((slug) => slug && !/^[a-z0-9_-]{1,32}$/i.test(slug));
  if (bad.length) throw new Error(`not platform slugs: ${bad.join(', ')}`);
  return input;
});

const positive = int(1);
const nonNegative = int(0);

/**
 * Every environment variable the service reads, with its default and description.
 * README's configuration table and .env.example are written from this list.
 */
export const envSchema = {
  NODE_ENV: str({
    choices: ['development', 'production', 'test'],
    default: 'development',
    desc: 'Runtime mode; production requires JWT_SECRET and disables the printed dev token',
  }),
  HOST: str({ default: '0.0.0.0', desc: 'Address the HTTP server binds to' }),
  PORT: port({ default: 3000, desc: 'HTTP port' }),
  METRICS_PORT: port({
    default: undefined,
    desc: 'Optional second listener serving only /metrics',
  }),
  LOG_LEVEL: str({
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    desc: 'Log level of the JSON logs',
  }),
  DATA_DIR: str({
    default: './data',
    desc: 'Local state: embedded PostgreSQL cluster, dev JWT secret',
  }),
  SHUTDOWN_DELAY_MS: nonNegative({
    default: 1000,
    desc: 'After SIGTERM, readiness answers 503 this long before the listener closes',
  }),

  DATABASE_URL: str({ default: undefined, desc: 'postgres:// URL; alternative to DB_*' }),
  DB_HOST: str({
    default: undefined,
    desc: 'PostgreSQL host; unset (with DATABASE_URL) = embedded PostgreSQL',
  }),
  DB_PORT: port({ default: 5432, desc: 'PostgreSQL port' }),
  DB_NAME: str({ default: 'trends', desc: 'Database name' }),
  DB_USER: str({ default: 'postgres', desc: 'Database user' }),
  DB_PASSWORD: str({ default: '', desc: 'Database password (sensitive)' }),
  DB_SSL: bool({
    default: false,
    desc: 'Connect with TLS and verify the server certificate (or sslmode=require|verify-ca|verify-full in DATABASE_URL)',
  }),
  DB_SSL_CA: str({
    default: undefined,
    desc: 'PEM file of the CA that signed the database certificate',
  }),
  DB_MAX_CONNECTIONS: positive({
    default: undefined,
    desc: 'Pool size (alias DB_POOL_MAX); default 4',
  }),
  DB_POOL_MAX: positive({ default: undefined, desc: 'Alias of DB_MAX_CONNECTIONS' }),
  DB_READ_HOST: str({
    default: undefined,
    desc: 'Read replica host(s), comma-separated; the query endpoints read there (docs/replicas.md)',
  }),
  DB_READ_PORT: port({ default: undefined, desc: "Read replicas' port (default: the primary's)" }),
  DB_READ_USER: str({ default: undefined, desc: "Read replicas' user (default: the primary's)" }),
  DB_READ_PASSWORD: str({
    default: undefined,
    desc: "Read replicas' password (default: the primary's; sensitive)",
  }),
  DB_READ_NAME: str({
    default: undefined,
    desc: "Read replicas' database name (default: the primary's)",
  }),
  DATABASE_READ_URL: str({
    default: undefined,
    desc: 'postgres:// URL(s) of read replicas, comma-separated; alternative to DB_READ_*',
  }),
  DB_READ_POOL_MAX: positive({ default: 4, desc: 'Connections per read replica pool' }),
  DB_READ_MAX_LAG_MS: nonNegative({
    default: 5000,
    desc: 'A replica lagging more than this is skipped (reads go to the primary)',
  }),
  DB_MIGRATIONS_RUN: bool({
    default: true,
    desc: 'Run pending migrations at start-up under an advisory lock',
  }),
  DB_STATEMENT_TIMEOUT_MS: nonNegative({
    default: 30_000,
    desc: 'statement_timeout for pooled connections (0 = none)',
  }),
  DB_SLOW_QUERY_MS: nonNegative({
    default: 1000,
    desc: 'Statements slower than this are logged once at warn and counted in db_slow_queries_total (0 = off)',
  }),
  DB_CONNECT_RETRY_MS: nonNegative({
    default: 60_000,
    desc: 'How long start-up keeps retrying an unreachable database (readiness 503 meanwhile)',
  }),
  DEMO_DATA: bool({
    default: undefined,
    desc: 'Load demo data into an empty database at start (default: on for embedded)',
  }),

  REDIS_URL: str({
    default: undefined,
    desc: 'redis:// URL; alternative to REDIS_*; unset = in-process cache',
  }),
  REDIS_HOST: str({ default: undefined, desc: 'Redis host' }),
  REDIS_PORT: port({ default: 6379, desc: 'Redis port' }),
  REDIS_PASSWORD: str({ default: undefined, desc: 'Redis password (sensitive)' }),
  REDIS_DB: nonNegative({ default: 0, desc: 'Redis database number' }),
  REDIS_KEY_PREFIX: str({
    default: 'trends:',
    desc: 'Prefix of every Redis key the service writes',
  }),
  REDIS_SENTINELS: str({
    default: undefined,
    desc: 'Sentinel addresses (host:port,...); with REDIS_SENTINEL_NAME instead of REDIS_URL/REDIS_HOST',
    example: 'sentinel-a:26379,sentinel-b:26379',
  }),
  REDIS_SENTINEL_NAME: str({
    default: undefined,
    desc: 'Name of the master the Sentinels watch (required with REDIS_SENTINELS)',
  }),
  REDIS_CLUSTER_NODES: str({
    default: undefined,
    desc: 'Redis Cluster seed nodes (host:port,...); instead of REDIS_URL/REDIS_HOST/REDIS_SENTINELS',
    example: 'redis-a:6379,redis-b:6379,redis-c:6379',
  }),
  REDIS_TTL: positive({ default: 3600, desc: 'Cache entry TTL in seconds' }),
  REDIS_REQUIRED: bool({ default: false, desc: 'Readiness fails while Redis is down' }),
  CACHE_OP_TIMEOUT_MS: positive({
    default: 100,
    desc: 'Each cache call gives up after this many ms',
  }),
  CACHE_MEMORY_MAX_ENTRIES: positive({
    default: 10_000,
    desc: 'Size of the in-process cache (no Redis), in entries',
  }),
  CACHE_MEMORY_MAX_MB: positive({
    default: 64,
    desc: 'Size of the in-process cache (no Redis), in MB (keys and values; whichever bound is hit first)',
  }),
  CACHE_L1_MAX_MB: nonNegative({
    default: 64,
    desc: 'In-process copy of Redis cache entries, by exact key (MB per replica; 0 = off)',
  }),
  CACHE_COMPRESS_MIN_BYTES: nonNegative({
    default: 1024,
    desc: 'Cached answers of at least this many bytes are stored compressed in Redis (0 = off)',
  }),

  INGEST_MAX_BATCH: positive({ default: 5000, desc: 'Maximum observations per ingest request' }),
  PLATFORMS: platformList({
    default: '',
    desc: 'Comma-separated allowed platform slugs (any case); empty = any valid slug',
    example: 'twitter,tiktok,instagram',
  }),
  INGEST_MAX_BODY: bytes({
    default: 10 * 1024 * 1024,
    desc: 'Maximum request body (bytes or 10MiB)',
  }),
  INGEST_MAX_FUTURE_SKEW: duration({
    default: 300_000,
    desc: 'How far in the future observedAt may be (5m)',
  }),

  JWT_SECRET: str({
    default: undefined,
    desc: 'HS256 secret, >= 32 bytes; required in production (sensitive)',
  }),
  JWT_PUBLIC_KEY: str({ default: undefined, desc: 'PEM public key: accept RS256 tokens' }),
  JWT_ISSUER: str({ default: undefined, desc: 'Required iss claim, when set' }),
  JWT_AUDIENCE: str({ default: undefined, desc: 'Required aud claim, when set' }),

  THROTTLE_TTL: positive({ default: 60, desc: 'Rate-limit window in seconds' }),
  THROTTLE_LIMIT: positive({ default: 600, desc: 'Requests per window per subject or IP' }),
  THROTTLE_INGEST_LIMIT: positive({ default: 6000, desc: 'Requests per window for role ingest' }),
  CORS_ORIGINS: str({ default: '', desc: 'Comma-separated allowed origins (empty = CORS off)' }),

  JOBS_ENABLED: bool({
    default: true,
    desc: 'Master switch for every schedule (manual runs still work)',
  }),
  JOB_PARTITIONS_ENABLED: bool({ default: true, desc: 'Schedule the partition/retention job' }),
  JOB_PARTITIONS_CRON: cron({
    default: '5 * * * *',
    desc: 'Partition/retention job schedule (hourly)',
  }),
  JOB_CACHE_WARM_ENABLED: bool({
    default: true,
    desc: 'Schedule cache warming: CACHE_WARM_QUERIES computed once per cluster as each hour opens',
  }),
  JOB_CACHE_WARM_CRON: cron({
    default: '5 0 * * * *',
    desc: 'Cache warming schedule (6 fields with seconds: a few seconds after each full hour)',
  }),
  CACHE_WARM_QUERIES: warmQueryList({
    default: 'top:1h,top:24h,top:7d,overview:24h',
    desc: 'Live queries the cache-warm job stores for the new hour: top:<window> or overview:24h, comma-separated',
  }),
  JOB_INDEX_MAINTENANCE_ENABLED: bool({ default: true, desc: 'Schedule index maintenance' }),
  JOB_INDEX_MAINTENANCE_CRON: cron({
    default: '30 3 * * *',
    desc: 'Index maintenance schedule (nightly)',
  }),
  PARTITION_PREMAKE: nonNegative({
    default: 3,
    desc: 'Partitions kept ready ahead of the current period',
  }),
  RETENTION_ARCHIVE: bool({
    default: false,
    desc: 'Archive partitions to BACKUP_DIR/archive before dropping',
  }),
  RETENTION_LOCK_TIMEOUT_MS: positive({
    default: 2000,
    desc: 'lock_timeout for DETACH/DROP PARTITION',
  }),
  INDEX_BLOAT_THRESHOLD_PERCENT: positive({
    default: 50,
    desc: 'Reindex a btree index whose estimated bloat exceeds this share of its size',
  }),
  INDEX_BLOAT_MIN_BYTES: bytes({
    default: 8 * 1024 * 1024,
    desc: 'Indexes smaller than this are never reindexed for bloat',
  }),
  MAINTENANCE_LOCK_TIMEOUT_MS: positive({
    default: 5000,
    desc: 'lock_timeout for each REINDEX CONCURRENTLY / ANALYZE',
  }),

  BACKUP_DIR: str({ default: './data/backups', desc: 'Where backups are written' }),
  BACKUP_ENCRYPTION_KEY: str({
    default: undefined,
    desc: '32 bytes base64: encrypt backups with AES-256-GCM (sensitive)',
  }),
  BACKUP_ENABLED: bool({ default: true, desc: 'Schedule backups' }),
  BACKUP_CRON: cron({ default: '0 2 * * *', desc: 'Backup schedule' }),
  BACKUP_VERIFY: bool({ default: true, desc: 'Verify each scheduled backup by restoring it' }),
  BACKUP_KEEP_DAILY: nonNegative({ default: 7, desc: 'Daily backups kept' }),
  BACKUP_KEEP_WEEKLY: nonNegative({ default: 4, desc: 'Weekly backups kept' }),
  BACKUP_KEEP_MONTHLY: nonNegative({ default: 6, desc: 'Monthly backups kept' }),
  PG_BIN_DIR: str({ default: undefined, desc: 'Directory of pg_dump/pg_restore (default: PATH)' }),
  BACKUP_S3_BUCKET: str({
    default: undefined,
    desc: 'Copy every backup and its manifest to this S3 bucket (off-site); unset = off',
  }),
  BACKUP_S3_ENDPOINT: httpUrl({
    default: undefined,
    desc: 'S3-compatible endpoint URL (e.g. https://minio.example:9000); unset = AWS',
  }),
  BACKUP_S3_REGION: str({ default: 'us-east-1', desc: 'Region of the backup bucket' }),
  BACKUP_S3_PREFIX: s3Prefix({
    default: 'trend-service/',
    desc: 'Key prefix of off-site backups inside the bucket',
  }),
  BACKUP_S3_ACCESS_KEY_ID: str({
    default: undefined,
    desc: 'Access key id for the backup bucket (default: the AWS SDK credential chain)',
  }),
  BACKUP_S3_SECRET_ACCESS_KEY: str({
    default: undefined,
    desc: 'Secret access key for the backup bucket (sensitive)',
  }),
  BACKUP_S3_FORCE_PATH_STYLE: bool({
    default: false,
    desc: 'Path-style bucket URLs (most S3-compatible servers: MinIO, Ceph, s3rver)',
  }),

  ANALYTICS_STATEMENT_TIMEOUT_MS: positive({
    default: 10_000,
    desc: 'statement_timeout of analytics queries',
  }),
  ANALYTICS_MAX_RANGE_DAYS: positive({
    default: 400,
    desc: 'Longest range an analytics query may cover',
  }),
  ANALYTICS_MAX_BUCKETS: positive({
    default: 1000,
    desc: 'Most hourly/daily rollup buckets one analytics request may read (both periods with compare)',
  }),

  DASHBOARD_ENABLED: bool({ default: true, desc: 'Serve the built-in admin dashboard at /' }),
  DASHBOARD_DIR: str({
    default: undefined,
    desc: 'Directory of the built dashboard assets (default: dist/web of the installation)',
  }),
  STREAM_TOP_INTERVAL_S: positive({
    default: 5,
    desc: 'Live stream: the 1h top 10 is computed (once per cluster) and sent when changed at most this often, in seconds',
  }),
  STREAM_RETENTION: positive({
    default: 10_000,
    desc: 'Live stream: events kept for Last-Event-ID replay (Redis Stream MAXLEN ~, or in memory without Redis)',
  }),
  STREAM_MAX_CONNECTIONS: positive({
    default: 1000,
    desc: 'Live stream: open streams per replica; beyond this the stream answers 503',
  }),
  STREAM_CLIENT_BUFFER: positive({
    default: 256,
    desc: 'Live stream: events queued for a client that is not reading before the oldest ingest/top events are dropped',
  }),
  STREAM_HEARTBEAT_S: positive({
    default: 15,
    desc: 'Live stream: seconds between heartbeat events',
  }),
  ALERTS_EVAL_INTERVAL_S: int(15)({
    default: 60,
    desc: 'Seconds between alert rule evaluations (the alerts job, once per tick across replicas; >= 15)',
  }),
  ALERTS_MAX_SERIES_PER_RULE: positive({
    default: 100,
    desc: 'Most series of one every-trend rule firing at once (highest values first)',
  }),
  ALERTS_DELIVERY_BASE_DELAY_MS: positive({
    default: 5000,
    desc: 'First retry delay of a failed webhook delivery; doubles per attempt, with jitter',
  }),
  ALERTS_DELIVERY_MAX_ATTEMPTS: positive({
    default: 8,
    desc: 'Attempts per notification and channel before it is marked failed',
  }),
  ALERTS_DELIVERY_ENABLED: bool({
    default: true,
    desc: 'Run the webhook delivery worker in this process (the CLIs turn it off)',
  }),
  ALERTS_DELIVERY_POLL_MS: positive({
    default: 1000,
    desc: 'How often each replica looks for due webhook deliveries',
  }),
  ALERTS_ALLOW_PRIVATE_TARGETS: bool({
    default: undefined,
    desc: 'Allow webhook targets on loopback/private/link-local addresses (default: true unless NODE_ENV=production)',
  }),
};

export type EnvSchema = typeof envSchema;
