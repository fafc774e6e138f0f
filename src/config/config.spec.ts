import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('uses the embedded database and in-process cache when nothing is configured', () => {
    const config = loadConfig({});
    expect(config.db.mode).toBe('embedded');
    expect(config.db.loadDemoData).toBe(true);
    expect(config.redis.url).toBeUndefined();
    expect(config.ingest).toEqual({
      maxBatch: 5000,
      maxBodyBytes: 10 * 1024 * 1024,
      maxFutureSkewMs: 300_000,
      platforms: [],
    });
    expect(config.redis.ttlSeconds).toBe(3600);
    expect(config.redis.keyPrefix).toBe('trends:');
  });

  it('reads both naming schemes', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5433/x' }).db).toMatchObject({
      mode: 'external',
      url: 'postgres://u:p@db:5433/x',
    });
    expect(loadConfig({ DB_HOST: 'db', DB_POOL_MAX: '7' }).db).toMatchObject({
      mode: 'external',
      host: 'db',
      poolMax: 7,
    });
    expect(
      loadConfig({ DB_HOST: 'db', DB_POOL_MAX: '7', DB_MAX_CONNECTIONS: '3' }).db.poolMax,
    ).toBe(3);
  });

  it('parses sizes and durations', () => {
    const config = loadConfig({ INGEST_MAX_BODY: '2MiB', INGEST_MAX_FUTURE_SKEW: '90s' });
    expect(config.ingest.maxBodyBytes).toBe(2 * 1024 * 1024);
    expect(config.ingest.maxFutureSkewMs).toBe(90_000);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', INGEST_MAX_BATCH: '0', LOG_LEVEL: 'loud', REDIS_URL: 'http://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'INGEST_MAX_BATCH', 'LOG_LEVEL']) expect(message).toContain(name);
    // rules across variables are reported in the same message
    expect(() => loadConfig({ PORT: 'abc', JWT_SECRET: 'short' })).toThrow(/PORT[\s\S]*JWT_SECRET/);
  });

  it('rejects cron expressions the scheduler would refuse, naming the variable', () => {
    expect(() => loadConfig({ BACKUP_CRON: '61 * * * *', PORT: '70000' })).toThrow(
      /PORT[\s\S]*BACKUP_CRON: must be a valid cron expression|BACKUP_CRON[\s\S]*PORT/,
    );
    expect(loadConfig({ BACKUP_CRON: '15 2 * * 1-5' }).backup.cron).toBe('15 2 * * 1-5');
  });

  it('requires a strong JWT secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET: must be at least 32 bytes/,
    );
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).env).toBe(
      'production',
    );
  });

  it('checks the backup key length', () => {
    expect(() =>
      loadConfig({ BACKUP_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }),
    ).toThrow(/BACKUP_ENCRYPTION_KEY/);
  });
});
