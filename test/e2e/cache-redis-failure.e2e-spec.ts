import { Agent, IncomingMessage, Server, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { CacheService } from '../../src/cache/cache.service';
import { LifecycleService } from '../../src/common/lifecycle.service';
import { RedisConnection } from '../../src/cache/redis.connection';
import { MetricsService } from '../../src/monitoring/metrics/metrics.service';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { responseTimes } from '../support/metrics';
import { bearer } from '../support/tokens';
import { ThrowawayRedis, freePort, testPrefix } from '../support/redis';
import { waitFor } from '../support/webhook-receiver';

const analyst = bearer(['analyst']);
const TOP = '/api/v1/trends/top?window=24h';

async function get(t: TestApp, url: string) {
  return request(t.http).get(url).set(analyst);
}

/**
 * What the cache counted: answers served around it, and store calls that waited out
 * CACHE_OP_TIMEOUT_MS. While Redis is known to be down no call may wait: every command is
 * refused at once (no offline queue), so the answer comes straight from the database.
 */
async function cacheCounts(t: TestApp): Promise<{ bypass: number; timeouts: number }> {
  const metrics = t.app.get(MetricsService);
  const ops = (await metrics.cacheOperations.get()).values;
  const errors = (await metrics.errors.get()).values;
  return {
    bypass:
      ops.find((v) => v.labels.operation === 'get' && v.labels.result === 'bypass')?.value ?? 0,
    timeouts:
      errors.find((v) => v.labels.service === 'cache' && v.labels.type === 'timeout')?.value ?? 0,
  };
}

/**
 * Resolves on the client's next `event`. Not events.once: that rejects on the 'error' events
 * (ECONNREFUSED) the client emits while it retries, which are expected here.
 */
function next(t: TestApp, event: 'ready' | 'close'): Promise<void> {
  const client = t.app.get(RedisConnection).client;
  if (!client) throw new Error('no Redis client');
  return new Promise((resolve) => client.once(event, () => resolve()));
}

/** Resolves when the app's client is connected again (its 'ready' event; subscribe first). */
function connectionBack(t: TestApp): Promise<void> {
  return next(t, 'ready');
}

/** Resolves once the app's client has seen the connection close (an event, not a sleep). */
async function connectionLost(t: TestApp): Promise<void> {
  if (t.app.get(RedisConnection).ready) await next(t, 'close');
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

/**
 * An app on its own redis-server, for one describe block: started before its tests, and
 * everything stopped and dropped after them.
 */
function appWithOwnRedis(name: string, opTimeoutMs = 100): { t: TestApp; redis: ThrowawayRedis } {
  const setup = {} as { t: TestApp; redis: ThrowawayRedis };
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    setup.redis = new ThrowawayRedis(await freePort());
    await setup.redis.start();
    db = await createTestDatabase(name.replace(/-/g, '_'));
    setup.t = await startTestApp(db, {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(setup.redis.port),
      REDIS_KEY_PREFIX: testPrefix(name),
      CACHE_OP_TIMEOUT_MS: String(opTimeoutMs),
    });
  });
  afterAll(async () => {
    setup.redis?.thaw();
    await setup.t?.close();
    await setup.redis?.stop();
    await db?.drop();
    process.off('unhandledRejection', onUnhandled);
  });
  return setup;
}

describe('cache with its own redis-server killed and restarted', () => {
  const setup = appWithOwnRedis('cache-failure');

  it('serves from the database with BYPASS while Redis is down, and HITs again after it returns', async () => {
    const { t, redis } = setup;
    await ingest(t, 4, 1);
    expect((await get(t, TOP)).headers['x-cache']).toBe('MISS');
    expect((await get(t, TOP)).headers['x-cache']).toBe('HIT');

    const lost = connectionLost(t);
    await redis.stop();
    await lost;
    const before = await cacheCounts(t);
    for (let i = 0; i < 5; i++) {
      const res = await get(t, TOP);
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('BYPASS');
      expect(res.body.items[0]).toMatchObject({ trendKey: 'gamma', mentions: 4 });
    }
    // An ingest while Redis is away still succeeds, and its numbers are served.
    await ingest(t, 6, 2);
    const during = await get(t, TOP);
    expect(during.headers['x-cache']).toBe('BYPASS');
    expect(during.body.items[0].mentions).toBe(10);
    const after = await cacheCounts(t);
    expect(after.bypass - before.bypass).toBe(6);
    expect(after.timeouts).toBe(before.timeouts); // nothing waited on the dead Redis

    const ready = await request(t.http).get('/health/ready');
    expect(ready.status).toBe(200);
    const health = await t.app.get(CacheService).health();
    expect(health).toMatchObject({ configured: true, connected: false });

    // Reconnects on its own (retry backoff ≤ 2 s); no app restart.
    const back = connectionBack(t);
    await redis.start();
    await back;
    // The reconnection started a new epoch: the entry is filled again, then it HITs (polled,
    // bounded: on a loaded machine a first call may still time out and bypass for a moment).
    let res = await get(t, TOP);
    await waitFor(async () => {
      res = await get(t, TOP);
      return res.headers['x-cache'] === 'HIT';
    }, 'a HIT after Redis returned');
    // The ingest Redis missed was not lost: the HIT carries the post-outage numbers.
    expect((res.body as { items: Array<{ mentions: number }> }).items[0].mentions).toBe(10);
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
    const before = await cacheCounts(t);
    for (let i = 0; i < 3; i++) {
      const res = await get(t, TOP);
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('BYPASS');
      expect(res.body.items[0].mentions).toBe(9);
    }
    const after = await cacheCounts(t);
    expect(after.bypass - before.bypass).toBe(3);
    expect(after.timeouts).toBe(before.timeouts); // refused at once, never waited out
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
    expect((await get(reader, TOP)).headers['x-cache']).toBe('MISS');
    const cached = await get(reader, TOP);
    expect(cached.headers['x-cache']).toBe('HIT');
    const mentions = (body: { items: { trendKey: string; mentions: number }[] }) =>
      body.items.find((i) => i.trendKey === 'gamma')?.mentions;
    expect(mentions(cached.body)).toBe(10);

    await redis.shutdownSaving(); // the cached answer is in the snapshot
    await ingest(writer, 5, 1); // acknowledged while Redis is away
    await writer.close(); // the replica that knows about the missed write is gone

    const back = connectionBack(reader);
    await redis.start(); // restarts with the old entry and the old versions
    await back;
    let res = await get(reader, TOP);
    await waitFor(async () => {
      if (res.headers['x-cache'] !== 'BYPASS') return true;
      res = await get(reader, TOP);
      return false;
    }, 'an answer through the cache after Redis returned');
    expect(res.headers['x-cache']).not.toBe('BYPASS');
    expect(res.headers['x-cache']).not.toBe('HIT');
    expect(mentions(res.body)).toBe(15);
  });
});

describe('cache with its own redis-server frozen (SIGSTOP) and thawed', () => {
  const setup = appWithOwnRedis('cache-frozen');

  it('answers from the database while Redis hangs, and HITs again once it answers', async () => {
    const { t, redis } = setup;
    await ingest(t, 3, 1);
    expect((await get(t, TOP)).headers['x-cache']).toBe('MISS');
    expect((await get(t, TOP)).headers['x-cache']).toBe('HIT'); // through Nest: reveals the route
    const serve = jest.spyOn(t.app.get(CacheService), 'serve');
    expect((await get(t, TOP)).headers['x-cache']).toBe('HIT');
    expect(serve).not.toHaveBeenCalled(); // the fast path answered

    // The connection stays open but nothing comes back: the fast path's one call waits out
    // CACHE_OP_TIMEOUT_MS, pauses Redis, and hands the request on; the full path then skips
    // Redis, as it does for the requests right after.
    const before = await cacheCounts(t);
    const timeBefore = await responseTimes(t, '/api/v1/trends/top', 'sum');
    redis.freeze();
    for (let i = 0; i < 3; i++) {
      const res = await get(t, TOP);
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('BYPASS');
      expect(res.body.items[0]).toMatchObject({ trendKey: 'gamma', mentions: 3 });
    }
    const during = await cacheCounts(t);
    expect(during.bypass - before.bypass).toBe(3);
    expect(during.timeouts).toBeGreaterThan(before.timeouts);
    // The wait in the fast path before the hand-off is part of the recorded response time:
    // at least one request waited out the whole 100 ms timeout.
    const timeDuring = await responseTimes(t, '/api/v1/trends/top', 'sum');
    expect(timeDuring - timeBefore).toBeGreaterThanOrEqual(0.1);

    redis.thaw();
    let res = await get(t, TOP);
    await waitFor(async () => {
      res = await get(t, TOP);
      return res.headers['x-cache'] === 'HIT';
    }, 'a HIT after Redis thawed');
    expect(res.body.items[0]).toMatchObject({ trendKey: 'gamma', mentions: 3 });
    serve.mockRestore();
    expect(unhandled).toEqual([]);
  });
});

describe('a cache hit whose Redis call outlasts the start of shutdown', () => {
  // A long timeout: the call waits on the frozen Redis until the test thaws it.
  const setup = appWithOwnRedis('cache-stopping', 10_000);

  /** A GET on a keep-alive connection (supertest's client asks to close every connection). */
  function keepAliveGet(port: number): Promise<IncomingMessage & { body: string }> {
    const agent = new Agent({ keepAlive: true });
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: TOP, agent, headers: analyst },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            agent.destroy();
            resolve(Object.assign(res, { body }));
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('is still answered by the fast path, with Connection: close', async () => {
    const { t, redis } = setup;
    await ingest(t, 6, 1);
    expect((await get(t, TOP)).headers['x-cache']).toBe('MISS');
    expect((await get(t, TOP)).headers['x-cache']).toBe('HIT'); // through Nest: reveals the route
    const server = t.http as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const serve = jest.spyOn(t.app.get(CacheService), 'serve');
    try {
      const open = await keepAliveGet(port);
      expect(open.headers['x-cache']).toBe('HIT');
      expect(open.headers.connection).toBe('keep-alive');

      redis.freeze();
      const pending = keepAliveGet(port);
      // The request can only be waiting on the frozen Redis; give it time to get there.
      await new Promise((r) => setTimeout(r, 300));
      t.app.get(LifecycleService).markStopping();
      redis.thaw();
      const res = await pending;
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-cache']).toBe('HIT');
      expect(serve).not.toHaveBeenCalled(); // answered by the fast path, not handed on
      expect(res.headers.connection).toBe('close');
      expect(JSON.parse(res.body).items[0]).toMatchObject({ trendKey: 'gamma', mentions: 6 });
    } finally {
      serve.mockRestore();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
