import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { EmbeddedServer, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { ThrowawayRedis, freePort, testPrefix } from '../support/redis';

/** True once something accepts TCP connections on the port. */

describe('health: database outage (own throwaway PostgreSQL)', () => {
  let baseDir: string;
  let pg: EmbeddedServer;
  let t: TestApp;

  beforeAll(async () => {
    baseDir = mkdtempSync(join(tmpdir(), 'trend-health-pg-'));
    chmodSync(baseDir, 0o755); // the server runs as the postgres OS user when we are root
    pg = await startEmbeddedPostgres(baseDir);
    const target = {
      env: {
        DB_HOST: pg.host,
        DB_PORT: String(pg.port),
        DB_USER: pg.user,
        DB_PASSWORD: pg.password,
        DB_NAME: 'trends_health',
      },
    } as Pick<TestDatabase, 'env'> as TestDatabase;
    t = await startTestApp(target);
  });
  afterAll(async () => {
    await t?.close();
    pg?.stop();
    if (baseDir) rmSync(baseDir, { recursive: true, force: true });
  });

  it('reports every dependency while the database is up', async () => {
    const ready = await request(t.http).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.database).toMatchObject({ status: 'up', migrations: 'applied' });
    const report = await request(t.http).get('/health');
    expect(report.status).toBe(200);
    expect(report.body.status).toBe('ok');
    expect(report.body.details).toEqual({
      database: expect.objectContaining({ status: 'up', latencyMs: expect.any(Number) }),
      redis: expect.objectContaining({ status: 'up', mode: 'memory' }),
      backupDisk: expect.objectContaining({ status: 'up', freeBytes: expect.any(Number) }),
      heap: expect.objectContaining({ status: 'up', usedBytes: expect.any(Number) }),
      // The shared test server does not archive WAL: reported, not an error.
      walArchive: { status: 'up', archiveMode: 'off' },
    });
    const mirror = await request(t.http).get('/monitoring/health');
    expect(mirror.status).toBe(200);
    expect(Object.keys(mirror.body.details).sort()).toEqual([
      'backupDisk',
      'database',
      'heap',
      'redis',
      'walArchive',
    ]);
  });

  it('database stopped: ready 503, live 200, /health 503 naming the database', async () => {
    pg.stop();
    for (const path of ['/health/ready', '/monitoring/health/ready']) {
      const ready = await request(t.http).get(path);
      expect(ready.status).toBe(503);
      expect(ready.body.error.database).toEqual({
        status: 'down',
        message: 'database unavailable',
      });
      // An open probe gives a plain reason: no driver error, address or port.
      expect(ready.body.message).toBe('not ready: database unavailable');
      expect(ready.text).not.toMatch(/ECONN|127\.0\.0\.1|:\d{4,5}\b|terminat/i);
      expect(ready.text).not.toContain(String(pg.port));
    }
    for (const path of ['/health/live', '/monitoring/health/live']) {
      const live = await request(t.http).get(path);
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ status: 'ok' });
    }
    // Answers (does not hang) with the database down: each indicator runs under a timeout.
    const report = await request(t.http).get('/health');
    expect(report.status).toBe(503);
    expect(report.body.status).toBe('error');
    // WAL archiving cannot be read either; it is listed but does not decide the status.
    expect(Object.keys(report.body.error)).toEqual(['database', 'walArchive']);
    expect(report.body.details.database.status).toBe('down');
    // /health keeps the details the probe leaves out
    expect(report.body.details.database.message).not.toBe('database unavailable');
    expect(report.body.details.heap.status).toBe('up');
    // Scrapes still answer while the database is away.
    const metrics = await request(t.http).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^# TYPE partitions_count untyped$/m);
  });
});

describe('health: Redis outage (own throwaway redis-server)', () => {
  let db: TestDatabase;
  let redis: ThrowawayRedis;
  let optional: TestApp;
  let required: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('health_redis');
    redis = new ThrowawayRedis(await freePort());
    await redis.start();
    const env = {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redis.port),
      REDIS_KEY_PREFIX: testPrefix('health'),
    };
    optional = await startTestApp(db, env);
    required = await startTestApp(db, { ...env, REDIS_REQUIRED: 'true' });
  });
  afterAll(async () => {
    await optional?.close();
    await required?.close();
    await redis?.stop();
    await db?.drop();
  });

  it('Redis up: reported up with its latency; ready 200 in both modes', async () => {
    const report = await request(optional.http).get('/health');
    expect(report.status).toBe(200);
    expect(report.body.details.redis).toMatchObject({
      status: 'up',
      mode: 'redis',
      latencyMs: expect.any(Number),
    });
    expect((await request(required.http).get('/health/ready')).status).toBe(200);
    expect((await request(required.http).get('/health/ready')).body.info.redis.status).toBe('up');
  });

  it('Redis down: /health shows redis down, ready stays 200 unless REDIS_REQUIRED', async () => {
    await redis.stop();

    const report = await request(optional.http).get('/health');
    expect(report.status).toBe(200);
    expect(report.body.status).toBe('ok');
    expect(report.body.error.redis.status).toBe('down');
    expect(report.body.details.redis.status).toBe('down');
    expect(report.body.details.database.status).toBe('up');
    expect((await request(optional.http).get('/health/ready')).status).toBe(200);

    const readyRequired = await request(required.http).get('/health/ready');
    expect(readyRequired.status).toBe(503);
    expect(readyRequired.body.error.redis.status).toBe('down');
    const reportRequired = await request(required.http).get('/health');
    expect(reportRequired.status).toBe(503);
    expect(Object.keys(reportRequired.body.error)).toEqual(['redis']);
  });
});
