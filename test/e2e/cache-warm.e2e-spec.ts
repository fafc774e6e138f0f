import Redis from 'ioredis';
import request from 'supertest';
import { CacheWarmer } from '../../src/cache/cache-warm';
import { loadConfig } from '../../src/config/config';
import { JobsService } from '../../src/jobs/jobs.service';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { SHARED_REDIS, deletePrefix, testPrefix } from '../support/redis';
import { TEST_JWT_SECRET, bearer } from '../support/tokens';

/**
 * Cache warming with a controlled clock: the process's Date is moved to a few seconds after
 * the next full hour (timers stay real), the cache-warm job runs, and each configured
 * dashboard query's first read is a HIT equal to an uncached answer.
 */
const HOUR = 3_600_000;
/** Minted per call: tokens made before the clock moves would be expired after it. */
const analyst = () => bearer(['analyst']);
const QUERIES = [
  '/api/v1/trends/top?window=1h',
  '/api/v1/trends/top?window=24h',
  '/api/v1/trends/top?window=7d',
  '/api/v1/analytics/overview',
];

describe('cache warming (shared Redis)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let redis: Redis;
  const prefix = testPrefix('warm');

  beforeAll(async () => {
    redis = new Redis({ host: '127.0.0.1', port: 6379 });
    db = await createTestDatabase('warm');
    t = await startTestApp(db, {
      ...SHARED_REDIS,
      REDIS_KEY_PREFIX: prefix,
      DB_MAX_CONNECTIONS: '3',
    });
  });
  afterAll(async () => {
    jest.useRealTimers();
    await t?.close();
    await db?.drop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const ingest = async (observedAt: number, trendKey: string, mentions: number) => {
    const res = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({
        observations: [
          { platform: 'x', trendKey, observedAt: new Date(observedAt).toISOString(), mentions },
        ],
      });
    expect(res.status).toBe(201);
  };

  it('after a simulated hour boundary the first read of each warmed query is an exact HIT', async () => {
    const realNow = Date.now();
    await ingest(realNow - 60_000, 'earlier', 5);
    // Every live query read once in the old hour (as dashboards do), then the hour turns.
    for (const url of QUERIES) {
      expect((await request(t.http).get(url).set(analyst())).status).toBe(200);
    }
    const boundary = Math.floor(realNow / HOUR) * HOUR + HOUR;
    jest.useFakeTimers({
      now: boundary + 5_000,
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    expect(Date.now()).toBe(boundary + 5_000);
    await ingest(boundary + 1_000, 'new hour', 7);

    const outcome = await t.app
      .get(JobsService)
      .run('cache-warm', 'api', () => t.app.get(CacheWarmer).warm());
    expect({ status: outcome.status, error: outcome.error }).toEqual({
      status: 'succeeded',
      error: undefined,
    });

    for (const url of QUERIES) {
      const first = await request(t.http).get(url).set(analyst());
      expect({ url, status: first.status, cache: first.headers['x-cache'] }).toEqual({
        url,
        status: 200,
        cache: 'HIT',
      });
      const uncached = await request(t.http)
        .get(url)
        .set({ ...analyst(), 'cache-control': 'no-cache' });
      expect(uncached.headers['x-cache']).toBe('MISS');
      expect(first.text).toBe(uncached.text);
    }
    const top1h = await request(t.http).get(QUERIES[0]).set(analyst());
    expect(top1h.body.items.map((i: { trendKey: string }) => i.trendKey)).toEqual(['new hour']);
    // A query that is not configured is not warmed: its first read in the new hour misses.
    const other = await request(t.http).get('/api/v1/trends/top?window=30d').set(analyst());
    expect(other.headers['x-cache']).toBe('MISS');
    jest.useRealTimers();
  });

  it('validates CACHE_WARM_QUERIES, naming the variable', () => {
    const base = { JWT_SECRET: TEST_JWT_SECRET };
    expect(loadConfig({ ...base }).jobs.cacheWarm.queries).toEqual([
      'top:1h',
      'top:24h',
      'top:7d',
      'overview:24h',
    ]);
    expect(() => loadConfig({ ...base, CACHE_WARM_QUERIES: 'top:15m' })).toThrow(
      /CACHE_WARM_QUERIES/,
    );
    expect(() => loadConfig({ ...base, CACHE_WARM_QUERIES: 'series:24h' })).toThrow(
      /CACHE_WARM_QUERIES/,
    );
  });
});
