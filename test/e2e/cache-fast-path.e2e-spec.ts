import Redis from 'ioredis';
import { sign } from 'jsonwebtoken';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { CacheService } from '../../src/cache/cache.service';
import { TestApp, startTestApp } from '../support/app';
import { Replicas, startReplicas, stopReplicas } from '../support/replicas';
import { awayFromHourBoundary } from '../support/clock';
import { responseTimes } from '../support/metrics';
import { TestDatabase, createTestDatabase } from '../support/database';
import { SHARED_REDIS, deletePrefix, testPrefix } from '../support/redis';
import { TEST_JWT_SECRET, bearer, tokenFor } from '../support/tokens';

const LIMIT = 6;
const URL = '/api/v1/trends/top?window=24h&limit=20';

type TopBody = { items: Array<{ trendKey: string; mentions: number }> };
const mentionsOf = (body: TopBody, key: string) =>
  body.items.find((i) => i.trendKey === key)?.mentions;

/** Observations a minute or two ago, inside the current 24h window. */
const recent = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

async function ingest(t: TestApp, trendKey: string, mentions: number): Promise<void> {
  const res = await request(t.http)
    .post('/api/v1/trends/observations')
    .set(bearer(['ingest']))
    .send({ observations: [{ platform: 'x', trendKey, observedAt: recent(1), mentions }] });
  expect(res.status).toBe(201);
}

/** Response headers whose values do not change from one request to the next. */
function stableHeaders(headers: Record<string, string>): Record<string, string> {
  const varying = ['date', 'x-request-id', 'age', 'x-ratelimit-remaining', 'x-ratelimit-reset'];
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !varying.includes(name)));
}

/**
 * The cache fast path (src/cache/cache-fast-path.ts) answers hits before the Nest pipeline.
 * Two app instances on one database and one Redis prefix play two replicas: each has its own
 * in-process L1. Whether an answer came through Nest is read from CacheService.serve, which
 * only the interceptor calls.
 */
describe('cache fast path (two replicas, shared Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  let replicas: Replicas | undefined;
  const prefix = testPrefix('cache_fast');

  beforeAll(async () => {
    await awayFromHourBoundary();
    replicas = await startReplicas('cache_fast', prefix, {
      THROTTLE_LIMIT: String(LIMIT),
      DB_MAX_CONNECTIONS: '4',
    });
    ({ a, b, redis } = replicas);
  });
  afterAll(() => stopReplicas(replicas));

  it('serves repeated hits without the Nest pipeline, with the same body and headers', async () => {
    await ingest(a, 'Alpha', 5);
    const serveA = jest.spyOn(a.app.get(CacheService), 'serve');
    const auth = { Authorization: `Bearer ${tokenFor(['analyst'], 'fast-1')}` };

    const miss = await request(a.http).get(URL).set(auth);
    expect(miss.status).toBe(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(serveA).toHaveBeenCalledTimes(1);

    const counted = await responseTimes(a, '/api/v1/trends/top', 'count');
    const hit = await request(a.http).get(URL).set(auth).set('X-Request-Id', 'fast-hit-1');
    expect(hit.status).toBe(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(serveA).toHaveBeenCalledTimes(1); // answered before the interceptor
    expect(await responseTimes(a, '/api/v1/trends/top', 'count')).toBe(counted + 1);
    expect(hit.body).toEqual(miss.body);
    expect(mentionsOf(hit.body as TopBody, 'alpha')).toBe(5);
    expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(0);
    expect(hit.headers['x-request-id']).toBe('fast-hit-1');
    expect(hit.headers['x-content-type-options']).toBe('nosniff'); // helmet ran
    expect(hit.headers['x-ratelimit-limit']).toBe(String(LIMIT));
    expect(hit.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 2));

    // Parameter order is normalized on the fast path too.
    const reordered = await request(a.http).get('/api/v1/trends/top?limit=20&window=24h').set(auth);
    expect(reordered.headers['x-cache']).toBe('HIT');
    expect(reordered.body).toEqual(miss.body);

    // A no-cache request still goes through Nest and the database.
    const fresh = await request(a.http).get(URL).set(auth).set('Cache-Control', 'no-cache');
    expect(fresh.headers['x-cache']).toBe('MISS');
    expect(serveA).toHaveBeenCalledTimes(2);
    serveA.mockRestore();
  });

  it('stays exact across replicas: a write through one makes the other L1 entry unreachable', async () => {
    const auth = { Authorization: `Bearer ${tokenFor(['analyst'], 'fast-2')}` };
    const serveB = jest.spyOn(b.app.get(CacheService), 'serve');
    const first = await request(b.http).get(URL).set(auth);
    expect(first.headers['x-cache']).toBe('HIT'); // from Redis, through Nest on this replica
    const second = await request(b.http).get(URL).set(auth);
    expect(second.headers['x-cache']).toBe('HIT'); // from its own L1 now
    expect(serveB).toHaveBeenCalledTimes(1);
    serveB.mockRestore();
    // The fast path's answer carries exactly the headers Nest's does (values that differ per
    // request aside): helmet's, the rate limit's, content type and length.
    expect(stableHeaders(second.headers)).toEqual(stableHeaders(first.headers));
    expect(second.text).toBe(first.text);
    expect(mentionsOf(second.body as TopBody, 'alpha')).toBe(5);

    // Both replicas hold the answer in their L1; the write goes through b.
    expect((await request(a.http).get(URL).set(auth)).headers['x-cache']).toBe('HIT');
    await ingest(b, 'alpha', 7);
    const onA = await request(a.http).get(URL).set(auth);
    expect(onA.headers['x-cache']).toBe('MISS');
    expect(mentionsOf(onA.body as TopBody, 'alpha')).toBe(12);
    const onB = await request(b.http).get(URL).set(auth);
    expect(onB.headers['x-cache']).toBe('HIT'); // a's answer, through Redis
    expect(mentionsOf(onB.body as TopBody, 'alpha')).toBe(12);
  });

  it('counts each request once against the limit shared by the replicas, and answers 429 past it', async () => {
    const sub = 'fast-limited';
    const auth = { Authorization: `Bearer ${tokenFor(['analyst'], sub)}` };
    const remaining: string[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const app = i % 2 === 0 ? a : b;
      const res = await request(app.http).get(URL).set(auth);
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('HIT');
      remaining.push(res.headers['x-ratelimit-remaining'] as string);
    }
    expect(remaining).toEqual(Array.from({ length: LIMIT }, (_, i) => String(LIMIT - 1 - i)));
    const limited = await request(a.http).get(URL).set(auth);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const alsoLimited = await request(b.http).get(URL).set(auth);
    expect(alsoLimited.status).toBe(429);

    // The shared counter saw every request exactly once (the 429s too, as the guard counts them).
    const tracker = `sub:${createHash('sha1').update(sub).digest('base64url')}`;
    expect(Number(await redis.get(`${prefix}{v}:throttle:default:${tracker}`))).toBe(LIMIT + 2);
  });

  it('leaves 401 and 403 to the guard, for a route whose answer is cached', async () => {
    const none = await request(a.http).get(URL);
    expect(none.status).toBe(401);
    const forged = await request(a.http)
      .get(URL)
      .set(
        'Authorization',
        `Bearer ${tokenFor(['analyst'], 'fast-3', 'another-secret-0123456789abcdef0123')}`,
      );
    expect(forged.status).toBe(401);
    const expired = sign(
      { sub: 'fast-3', roles: ['analyst'], exp: Math.floor(Date.now() / 1000) - 10 },
      TEST_JWT_SECRET,
      { algorithm: 'HS256' },
    );
    expect((await request(a.http).get(URL).set('Authorization', `Bearer ${expired}`)).status).toBe(
      401,
    );
    const wrongRole = await request(a.http)
      .get(URL)
      .set('Authorization', `Bearer ${tokenFor(['ingest'], 'fast-3')}`);
    expect(wrongRole.status).toBe(403);
    for (const res of [none, forged, wrongRole]) expect(res.headers['x-cache']).toBeUndefined();
  });

  it('resolves URLs to the routes and params Fastify would, and leaves the rest to it', async () => {
    await ingest(a, 'Café Olé', 4);
    const auth = { Authorization: `Bearer ${tokenFor(['analyst'], 'fast-5')}` };
    const series = `/api/v1/trends/${encodeURIComponent('café olé')}/series?interval=hour`;
    const first = await request(a.http).get(series).set(auth);
    expect(first.status).toBe(200);
    const serveA = jest.spyOn(a.app.get(CacheService), 'serve');
    const hit = await request(a.http).get(series).set(auth);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(serveA).not.toHaveBeenCalled(); // the fast path decoded the key as Fastify does
    expect(hit.body).toEqual(first.body);
    expect(hit.body.trendKey).toBe('café olé');

    // No route with a trailing slash (Fastify's default): a 404 from Fastify, not a hit.
    const slash = await request(a.http).get('/api/v1/trends/top/?window=24h&limit=20').set(auth);
    expect(slash.status).toBe(404);
    // Input the pipe rejects is answered by Nest with its 400, cached or not.
    const bad = await request(a.http).get('/api/v1/trends/top?window=24h&limit=0').set(auth);
    expect(bad.status).toBe(400);
    expect(serveA).not.toHaveBeenCalled();
    // HEAD is Fastify's (its own route for every GET).
    const head = await request(a.http).head(URL).set(auth);
    expect(head.status).toBe(200);
    serveA.mockRestore();
  });

  it('rejects a token once it has expired, though it was accepted (and remembered) before', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = sign({ sub: 'fast-4', roles: ['analyst'], exp }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
    });
    const auth = { Authorization: `Bearer ${token}` };
    expect((await request(a.http).get(URL).set(auth)).status).toBe(200);
    expect((await request(a.http).get(URL).set(auth)).status).toBe(200);
    // Wait until the token's exp has passed (bounded: about two seconds).
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    const late = await request(a.http).get(URL).set(auth);
    expect(late.status).toBe(401);
  });
});

/**
 * With CORS on, @fastify/cors puts headers on every answer, Origin or not; the fast path does
 * not know them, so it stays off and hits come through Nest with them.
 */
describe('cache fast path with CORS_ORIGINS set', () => {
  let db: TestDatabase;
  let t: TestApp;
  let redis: Redis;
  const prefix = testPrefix('cache_fast_cors');

  beforeAll(async () => {
    redis = new Redis({ host: '127.0.0.1', port: 6379 });
    db = await createTestDatabase('cache_fast_cors');
    t = await startTestApp(db, {
      ...SHARED_REDIS,
      REDIS_KEY_PREFIX: prefix,
      CORS_ORIGINS: 'https://dash.example',
      DB_MAX_CONNECTIONS: '4',
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('answers hits through Nest, with the CORS headers, with or without Origin', async () => {
    await ingest(t, 'Delta', 2);
    const auth = { Authorization: `Bearer ${tokenFor(['analyst'], 'fast-cors')}` };
    expect((await request(t.http).get(URL).set(auth)).headers['x-cache']).toBe('MISS');
    const serve = jest.spyOn(t.app.get(CacheService), 'serve');
    const plain = await request(t.http).get(URL).set(auth);
    const crossOrigin = await request(t.http)
      .get(URL)
      .set(auth)
      .set('Origin', 'https://dash.example');
    for (const res of [plain, crossOrigin]) {
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('HIT');
      expect(res.headers.vary).toContain('Origin');
      expect(res.headers['access-control-expose-headers']).toContain('X-Cache');
    }
    expect(crossOrigin.headers['access-control-allow-origin']).toBe('https://dash.example');
    expect(serve).toHaveBeenCalledTimes(2);
    serve.mockRestore();
  });
});
