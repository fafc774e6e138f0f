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

/** Five- or six-field cron expressions, checked for shape only (the scheduler parses them). */
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
  DB_READ_HOST: str({ default: undefined, desc: 'Read replica host (reserved for a later issue)' }),
  DB_MIGRATIONS_RUN: bool({
    default: true,
    desc: 'Run pending migrations at start-up under an advisory lock',
  }),
  DB_STATEMENT_TIMEOUT_MS: nonNegative({
    default: 30_000,
    desc: 'statement_timeout for pooled connections (0 = none)',
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
  REDIS_TTL: positive({ default: 3600, desc: 'Cache entry TTL in seconds' }),
  REDIS_REQUIRED: bool({ default: false, desc: 'Readiness fails while Redis is down' }),
  CACHE_OP_TIMEOUT_MS: positive({
    default: 100,
    desc: 'Each cache call gives up after this many ms',
  }),
  CACHE_MEMORY_MAX_ENTRIES: positive({
    default: 10_000,
    desc: 'Size of the in-process cache (no Redis)',
  }),
  CACHE_L1_MAX_MB: nonNegative({
    default: 64,
    desc: 'In-process copy of Redis cache entries, by exact key (MB per replica; 0 = off)',
  }),

  INGEST_MAX_BATCH: positive({ default: 5000, desc: 'Maximum observations per ingest request' }),
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
};

export type EnvSchema = typeof envSchema;
