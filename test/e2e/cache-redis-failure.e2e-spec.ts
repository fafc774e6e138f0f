import request from 'supertest';
import { CacheService } from '../../src/cache/cache.service';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';
import { ThrowawayRedis, freePort, testPrefix } from '../support/redis';

const analyst = bearer(['analyst']);
const TOP = '/api/v1/trends/top?window=24h';

async function timed(t: TestApp, url: string) {
  const started = Date.now();
  const res = await request(t.http).get(url).set(analyst);
  return { res, ms: Date.now() - started };
}

async function ingest(t: TestApp, mentions: number, minutesAgo: number) {
  const observedAt = new Date(
    Math.max(Date.now() - minutesAgo * 60_000, Math.floor(Date.now() / 86_400_000) * 86_400_000),
  );
  const res = await request(t.http)
    .post('/api/v1/trends/observations')
    .set(bearer(['ingest']))
    .send({
      observations: [
        { platform: 'x', trendKey: 'gamma', observedAt: observedAt.toISOString(), mentions },
      ],
    });
  expect(res.status).toBe(201);
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

describe('cache with its own redis-server killed and restarted', () => {
  let db: TestDatabase;
  let t: TestApp;
  let redis: ThrowawayRedis;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    redis = new ThrowawayRedis(await freePort());
    await redis.start();
    db = await createTestDatabase('cache_failure');
    t = await startTestApp(db, {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redis.port),
      REDIS_KEY_PREFIX: testPrefix('cache-failure'),
      CACHE_OP_TIMEOUT_MS: '100',
    });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
    await db?.drop();
    process.off('unhandledRejection', onUnhandled);
  });

  it('serves from the database with BYPASS while Redis is down, and HITs again after it returns', async () => {
    await ingest(t, 4, 1);
    expect((await timed(t, TOP)).res.headers['x-cache']).toBe('MISS');
    expect((await timed(t, TOP)).res.headers['x-cache']).toBe('HIT');

    await redis.stop();
    for (let i = 0; i < 5; i++) {
      const { res, ms } = await timed(t, TOP);
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('BYPASS');
      expect(res.body.items[0]).toMatchObject({ trendKey: 'gamma', mentions: 4 });
      expect(ms).toBeLessThan(1000);
    }
    // An ingest while Redis is away still succeeds, and its numbers are served.
    await ingest(t, 6, 2);
    const during = await timed(t, TOP);
    expect(during.res.headers['x-cache']).toBe('BYPASS');
    expect(during.res.body.items[0].mentions).toBe(10);
    expect(during.ms).toBeLessThan(1000);

    const ready = await request(t.http).get('/health/ready');
    expect(ready.status).toBe(200);
    const health = await t.app.get(CacheService).health();
    expect(health).toMatchObject({ configured: true, connected: false });

    await redis.start();
    // Reconnects on its own (retry backoff ≤ 2 s); no app restart.
    let status: string | undefined;
    let body: { items: Array<{ mentions: number }> } | undefined;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && status !== 'HIT') {
      await new Promise((r) => setTimeout(r, 200));
      const { res } = await timed(t, TOP);
      status = res.headers['x-cache'];
      body = res.body;
    }
    expect(status).toBe('HIT');
    // The ingest Redis missed was not lost: the HIT carries the post-outage numbers.
    expect(body?.items[0].mentions).toBe(10);
    expect((await t.app.get(CacheService).health()).connected).toBe(true);
    expect(unhandled).toEqual([]);
  });
});

describe('cache pointed at a port where nothing listens', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    db = await createTestDatabase('cache_nolisten');
    t = await startTestApp(db, {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(await freePort()),
      REDIS_KEY_PREFIX: testPrefix('cache-nolisten'),
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    process.off('unhandledRejection', onUnhandled);
  });

  it('starts, stays ready and answers BYPASS quickly', async () => {
    await ingest(t, 9, 1);
    for (let i = 0; i < 3; i++) {
      const { res, ms } = await timed(t, TOP);
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('BYPASS');
      expect(res.body.items[0].mentions).toBe(9);
      expect(ms).toBeLessThan(1000);
    }
    expect((await request(t.http).get('/health/ready')).status).toBe(200);
    const stats = await request(t.http)
      .get('/api/v1/admin/cache')
      .set(bearer(['admin']));
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({ connected: false, keys: null });
    expect(
      (
        await request(t.http)
          .delete('/api/v1/admin/cache')
          .set(bearer(['admin']))
      ).status,
    ).toBe(503);
    expect(unhandled).toEqual([]);
  });
});

describe('a Redis restarted from its snapshot after a write it missed', () => {
  let db: TestDatabase;
  let writer: TestApp;
  let reader: TestApp;
  let redis: ThrowawayRedis;
  let dataDir: string;

  beforeAll(async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    dataDir = mkdtempSync(join(tmpdir(), 'trend-redis-rdb-'));
    redis = new ThrowawayRedis(await freePort(), dataDir);
    await redis.start();
    db = await createTestDatabase('cache_snapshot');
    const env = {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redis.port),
      REDIS_KEY_PREFIX: testPrefix('cache-snapshot'),
    };
    writer = await startTestApp(db, env);
    reader = await startTestApp(db, env);
  });
  afterAll(async () => {
    await writer?.close();
    await reader?.close();
    await redis?.stop();
    await db?.drop();
    const { rmSync } = await import('node:fs');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('never serves the pre-outage answer, even when the replica that wrote has gone', async () => {
    await ingest(writer, 10, 2);
    expect((await timed(reader, TOP)).res.headers['x-cache']).toBe('MISS');
    const cached = (await timed(reader, TOP)).res;
    expect(cached.headers['x-cache']).toBe('HIT');
    const mentions = (body: { items: { trendKey: string; mentions: number }[] }) =>
      body.items.find((i) => i.trendKey === 'gamma')?.mentions;
    expect(mentions(cached.body)).toBe(10);

    await redis.shutdownSaving(); // the cached answer is in the snapshot
    await ingest(writer, 5, 1); // acknowledged while Redis is away
    await writer.close(); // the replica that knows about the missed write is gone

    await redis.start(); // restarts with the old entry and the old versions
    let res = (await timed(reader, TOP)).res;
    for (let i = 0; i < 100 && res.headers['x-cache'] === 'BYPASS'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = (await timed(reader, TOP)).res;
    }
    expect(res.headers['x-cache']).not.toBe('BYPASS');
    expect(res.headers['x-cache']).not.toBe('HIT');
    expect(mentions(res.body)).toBe(15);
  });
});
