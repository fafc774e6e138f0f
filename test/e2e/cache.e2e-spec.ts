import Redis from 'ioredis';
import request from 'supertest';
import { MetricsService } from '../../src/monitoring/metrics/metrics.service';
import { IngestRepository } from '../../src/trends/ingest.repository';
import { validateIngestBody } from '../../src/trends/ingest-validator';
import { TrendsRepository } from '../../src/trends/trends.repository';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';
import { SHARED_REDIS, deletePrefix, testPrefix } from '../support/redis';
import { awayFromHourBoundary } from '../support/clock';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const analyst = bearer(['analyst']);
const admin = bearer(['admin']);

/** Observations a few minutes ago (inside the current hour's 24h window, today UTC when possible). */
function recent(minutesAgo: number): string {
  const now = Date.now();
  const at = Math.max(now - minutesAgo * 60_000, Math.floor(now / DAY) * DAY);
  return new Date(at).toISOString();
}

async function ingest(t: TestApp, observations: object[]): Promise<void> {
  const res = await request(t.http)
    .post('/api/v1/trends/observations')
    .set(bearer(['ingest']))
    .send({ observations });
  expect(res.status).toBe(201);
}

const mentionsOf = (body: { items: Array<{ trendKey: string; mentions: number }> }, key: string) =>
  body.items.find((i) => i.trendKey === key)?.mentions;

async function counter(t: TestApp, result: string): Promise<number> {
  const metric = await t.app.get(MetricsService).cacheOperations.get();
  return metric.values
    .filter((v) => v.labels.result === result)
    .reduce((sum, v) => sum + v.value, 0);
}

describe('cache (shared Redis)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let redis: Redis;
  const prefix = testPrefix('cache');
  const foreignKey = `${testPrefix('foreign')}keep`;

  beforeAll(async () => {
    await awayFromHourBoundary(); // the default window must not move mid-file
    redis = new Redis({ host: '127.0.0.1', port: 6379 });
    db = await createTestDatabase('cache');
    t = await startTestApp(db, { ...SHARED_REDIS, REDIS_KEY_PREFIX: prefix });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await deletePrefix(redis, prefix);
    await redis.del(foreignKey);
    redis.disconnect();
  });

  it('answers MISS then HIT, and parameter order and defaults share one key', async () => {
    await ingest(t, [{ platform: 'x', trendKey: 'Alpha', observedAt: recent(1), mentions: 5 }]);
    const first = await request(t.http).get('/api/v1/trends/top?window=24h&limit=20').set(analyst);
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.headers.age).toBeUndefined();
    expect(mentionsOf(first.body, 'alpha')).toBe(5);

    const second = await request(t.http).get('/api/v1/trends/top?limit=20&window=24h').set(analyst);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.headers['content-type']).toMatch(/application\/json/);
    expect(Number(second.headers.age)).toBeGreaterThanOrEqual(0);
    expect(second.body).toEqual(first.body);

    // Defaults (window=24h, limit=20) and region spelling normalize to the same key.
    const third = await request(t.http).get('/api/v1/trends/top').set(analyst);
    expect(third.headers['x-cache']).toBe('HIT');
    const lower = await request(t.http).get('/api/v1/trends/top?region=us').set(analyst);
    expect(lower.headers['x-cache']).toBe('MISS');
    const upper = await request(t.http).get('/api/v1/trends/top?region=US').set(analyst);
    expect(upper.headers['x-cache']).toBe('HIT');
  });

  it('returns the new numbers after an ingest into the window, and HITs again afterwards', async () => {
    const before = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(before.headers['x-cache']).toBe('HIT');
    expect(mentionsOf(before.body, 'alpha')).toBe(5);

    await ingest(t, [{ platform: 'x', trendKey: 'alpha', observedAt: recent(2), mentions: 7 }]);
    const after = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(mentionsOf(after.body, 'alpha')).toBe(12);
    const again = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(again.headers['x-cache']).toBe('HIT');
    expect(mentionsOf(again.body, 'alpha')).toBe(12);
  });

  it('a retried batch whose first commit lost its version bump still makes reads exact', async () => {
    const first = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(mentionsOf(first.body, 'retried')).toBeUndefined();
    await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst).expect(200);
    // The first attempt committed, then the process died before the cache heard of it (the
    // client saw no 2xx): the rows are in, the versions did not move.
    const observation = { platform: 'x', trendKey: 'retried', observedAt: recent(3), mentions: 11 };
    const validation = validateIngestBody(
      { observations: [observation] },
      { maxBatch: 10, maxFutureSkewMs: 300_000, oldestAllowed: null, platforms: [] },
      new Date(),
    );
    if ('errors' in validation) throw new Error(JSON.stringify(validation.errors));
    await t.app.get(IngestRepository).insertBatch(validation.rows);
    const stale = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect([stale.headers['x-cache'], mentionsOf(stale.body, 'retried')]).toEqual([
      'HIT',
      undefined,
    ]);

    // The client retries: all duplicates, and the answer after its 2xx is exact.
    const retry = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations: [observation] });
    expect(retry.body).toEqual({ accepted: 0, duplicates: 1 });
    const after = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect([after.headers['x-cache'], mentionsOf(after.body, 'retried')]).toEqual(['MISS', 11]);
  });

  it('keeps a window ending yesterday a HIT while ingest writes today', async () => {
    const today = Math.floor(Date.now() / DAY) * DAY;
    const yesterday = new Date(today - 5 * HOUR).toISOString();
    await ingest(t, [{ platform: 'x', trendKey: 'old news', observedAt: yesterday, mentions: 3 }]);
    const url = `/api/v1/trends/top?window=24h&at=${new Date(today).toISOString()}`;
    const first = await request(t.http).get(url).set(analyst);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(mentionsOf(first.body, 'old news')).toBe(3);

    await ingest(t, [
      { platform: 'x', trendKey: 'old news', observedAt: recent(3), mentions: 100 },
    ]);
    const second = await request(t.http).get(url).set(analyst);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(mentionsOf(second.body, 'old news')).toBe(3);

    // ...while the live window over today sees the write at once.
    const live = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(live.headers['x-cache']).toBe('MISS');
    const liveFrom = Math.floor(Date.now() / HOUR) * HOUR + HOUR - DAY;
    expect(mentionsOf(live.body, 'old news')).toBe(
      100 + (new Date(yesterday).getTime() >= liveFrom ? 3 : 0),
    );
  });

  it('serves the pre-ingest answer as STALE under max-stale, and fresh numbers under no-cache', async () => {
    const url = '/api/v1/trends/top?window=6h&platform=x';
    const cached = await request(t.http).get(url).set(analyst);
    const cachedAlpha = mentionsOf(cached.body, 'alpha');
    expect(cachedAlpha).toBe(12);

    await ingest(t, [{ platform: 'x', trendKey: 'alpha', observedAt: recent(4), mentions: 30 }]);
    const stale = await request(t.http).get(url).set(analyst).set('Cache-Control', 'max-stale=60');
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(Number(stale.headers.age)).toBeGreaterThanOrEqual(0);
    expect(mentionsOf(stale.body, 'alpha')).toBe(12);

    const fresh = await request(t.http).get(url).set(analyst).set('Cache-Control', 'no-cache');
    expect(fresh.headers['x-cache']).toBe('MISS');
    expect(mentionsOf(fresh.body, 'alpha')).toBe(42);
    const plain = await request(t.http).get(url).set(analyst);
    expect(plain.headers['x-cache']).toBe('HIT');
    expect(mentionsOf(plain.body, 'alpha')).toBe(42);
  });

  it('caches series and search exactly', async () => {
    const from = new Date(Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR).toISOString();
    const url = `/api/v1/trends/alpha/series?interval=hour&from=${from}`;
    const first = await request(t.http).get(url).set(analyst);
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const total = (body: { points: Array<{ mentions: number }> }) =>
      body.points.reduce((s, p) => s + p.mentions, 0);
    const before = total(first.body);
    expect((await request(t.http).get(url).set(analyst)).headers['x-cache']).toBe('HIT');
    await ingest(t, [{ platform: 'y', trendKey: 'alpha', observedAt: recent(5), mentions: 8 }]);
    const after = await request(t.http).get(url).set(analyst);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(total(after.body)).toBe(before + 8);

    const search = await request(t.http).get('/api/v1/trends/search?q=alp').set(analyst);
    expect(search.headers['x-cache']).toBe('MISS');
    expect(
      (await request(t.http).get('/api/v1/trends/search?q=alp').set(analyst)).headers['x-cache'],
    ).toBe('HIT');
    // A new key on any day changes the catalogue: search is keyed on every ingest.
    await ingest(t, [
      {
        platform: 'y',
        trendKey: 'alpine',
        observedAt: new Date(Date.now() - 20 * DAY).toISOString(),
        mentions: 1,
      },
    ]);
    const changed = await request(t.http).get('/api/v1/trends/search?q=alp').set(analyst);
    expect(changed.headers['x-cache']).toBe('MISS');
    expect(changed.body.items.map((i: { trendKey: string }) => i.trendKey)).toContain('alpine');
  });

  it('runs one database query for concurrent misses of one key (single-flight)', async () => {
    const repository = t.app.get(TrendsRepository);
    const original = repository.top.bind(repository);
    // Counts the queries at the repository boundary; the delay makes the 12 requests overlap for sure.
    const spy = jest.spyOn(repository, 'top').mockImplementation(async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return original(...args);
    });
    const coalescedBefore = await counter(t, 'coalesced');
    try {
      await t.app.listen(0, '127.0.0.1');
      const url = `${await t.app.getUrl()}/api/v1/trends/top?window=7d&limit=13`;
      const answers = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const res = await fetch(url, { headers: analyst });
          return { status: res.status, cache: res.headers.get('x-cache'), text: await res.text() };
        }),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(new Set(answers.map((a) => a.text)).size).toBe(1);
      expect(answers.filter((a) => a.cache === 'MISS')).toHaveLength(12);
      expect((await counter(t, 'coalesced')) - coalescedBefore).toBe(11);
    } finally {
      spy.mockRestore();
    }
  });

  it('passes invalid input through to the 400 and caches nothing for it', async () => {
    const bad = await request(t.http).get('/api/v1/trends/top?limit=0').set(analyst);
    expect(bad.status).toBe(400);
    expect(bad.headers['x-cache']).toBeUndefined();
    const unknown = await request(t.http).get('/api/v1/trends/top?bogus=1').set(analyst);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].field).toBe('bogus');
  });

  it('reports stats and clears only its own prefix, audited', async () => {
    await redis.set(foreignKey, 'keep me');
    expect((await request(t.http).get('/api/v1/admin/cache').set(analyst)).status).toBe(403);
    const stats = await request(t.http).get('/api/v1/admin/cache').set(admin);
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({ connected: true });
    expect(stats.body.hits).toBeGreaterThan(0);
    expect(stats.body.misses).toBeGreaterThan(0);
    expect(stats.body.hitRate).toBeCloseTo(
      stats.body.hits / (stats.body.hits + stats.body.misses),
      10,
    );
    let ownKeys = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      ownKeys += keys.length;
    } while (cursor !== '0');
    expect(stats.body.keys).toBe(ownKeys);
    expect(stats.body.memoryBytes).toBeGreaterThan(0);
    const mirror = await request(t.http).get('/monitoring/admin/cache').set(admin);
    expect(mirror.status).toBe(200);
    expect(Object.keys(mirror.body).sort()).toEqual([
      'connected',
      'hitRate',
      'hits',
      'keys',
      'memoryBytes',
      'misses',
      'written',
    ]);

    const cleared = await request(t.http).delete('/api/v1/admin/cache').set(admin);
    expect(cleared.status).toBe(200);
    expect(cleared.body.deleted).toBe(ownKeys);
    expect(await redis.get(foreignKey)).toBe('keep me');
    const [left] = await redis.scan('0', 'MATCH', `${prefix}c:*`, 'COUNT', 10000);
    expect(left).toBe('0');
    const audit = await db.query<{ actor: string; action: string }>(
      "SELECT actor, action FROM admin_audit_log WHERE action = 'cache.clear'",
    );
    expect(audit).toEqual([{ actor: 'tester', action: 'cache.clear' }]);
    const after = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(after.headers['x-cache']).toBe('MISS');
  });
});

describe('cache (no Redis configured: in-process LRU)', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('cache_memory');
    t = await startTestApp(db, { CACHE_MEMORY_MAX_ENTRIES: '50' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('behaves like the Redis cache: MISS, HIT, exact after ingest, STALE under max-stale', async () => {
    await ingest(t, [{ platform: 'x', trendKey: 'beta', observedAt: recent(1), mentions: 2 }]);
    const url = '/api/v1/trends/top?window=24h';
    expect((await request(t.http).get(url).set(analyst)).headers['x-cache']).toBe('MISS');
    const hit = await request(t.http).get(url).set(analyst);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(mentionsOf(hit.body, 'beta')).toBe(2);
    await ingest(t, [{ platform: 'x', trendKey: 'beta', observedAt: recent(2), mentions: 3 }]);
    const stale = await request(t.http).get(url).set(analyst).set('Cache-Control', 'max-stale=60');
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(mentionsOf(stale.body, 'beta')).toBe(2);
    const fresh = await request(t.http).get(url).set(analyst);
    expect(fresh.headers['x-cache']).toBe('MISS');
    expect(mentionsOf(fresh.body, 'beta')).toBe(5);
    const stats = await request(t.http).get('/api/v1/admin/cache').set(admin);
    expect(stats.body).toMatchObject({ connected: true, hits: 2, misses: 2 }); // HIT + STALE; two queries
    expect(stats.body.keys).toBeLessThanOrEqual(50);
  });
});
