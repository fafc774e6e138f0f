import { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import request from 'supertest';
import { loadConfig } from '../../src/config/config';
import { TestApp, startTestApp } from '../support/app';
import { awayFromHourBoundary } from '../support/clock';
import { TestDatabase, createTestDatabase } from '../support/database';
import { ThrowawayRedisCluster, ThrowawaySentinel } from '../support/redis-topologies';
import { SseClient } from '../support/sse';
import { bearer, tokenFor } from '../support/tokens';

/**
 * The service on a real Redis Cluster (three masters) and on a real Sentinel-managed master
 * with a replica: cache exactness, the shared rate limit, the live stream and the admin clear
 * work; after Sentinel promotes the replica the service recovers without a restart.
 */
jest.setTimeout(120_000);

const DAY = 86_400_000;
const analyst = bearer(['analyst']);
const admin = bearer(['admin']);
const LIMIT = 40;

function recent(minutesAgo: number): string {
  const now = Date.now();
  return new Date(Math.max(now - minutesAgo * 60_000, Math.floor(now / DAY) * DAY)).toISOString();
}

const mentionsOf = (body: { items: Array<{ trendKey: string; mentions: number }> }, key: string) =>
  body.items.find((i) => i.trendKey === key)?.mentions;

async function ingest(t: TestApp, trendKey: string, mentions: number, minutesAgo = 1) {
  const res = await request(t.http)
    .post('/api/v1/trends/observations')
    .set(bearer(['ingest']))
    .send({
      observations: [{ platform: 'x', trendKey, observedAt: recent(minutesAgo), mentions }],
    });
  expect(res.status).toBe(201);
}

/** Keys of the whole deployment, counted on each master independently of the service. */
async function keysOn(ports: number[], pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for (const port of ports) {
    const node = new Redis({ host: '127.0.0.1', port });
    try {
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      node.disconnect();
    }
  }
  return keys;
}

/** The basics every topology must pass. */
function sharedBasics(ctx: () => { t: TestApp; url: string; masters: () => number[] }) {
  it('answers MISS then HIT, and an ingest makes the next read exact again', async () => {
    const { t } = ctx();
    await ingest(t, 'alpha', 5);
    const first = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(mentionsOf(first.body, 'alpha')).toBe(5);
    const second = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);

    await ingest(t, 'alpha', 7, 2);
    const after = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(mentionsOf(after.body, 'alpha')).toBe(12);
    const again = await request(t.http).get('/api/v1/trends/top?window=24h').set(analyst);
    expect(again.headers['x-cache']).toBe('HIT');
    expect(mentionsOf(again.body, 'alpha')).toBe(12);

    // A max-stale read looks up the exact and the latest entry in one MGET (one hash slot).
    const stale = await request(t.http)
      .get('/api/v1/trends/top?window=24h')
      .set({ ...analyst, 'cache-control': 'max-stale=60' });
    expect(stale.headers['x-cache']).toBe('HIT');
    expect(stale.body).toEqual(again.body);
  });

  it('shares the rate limit through Redis: the request over the limit gets 429', async () => {
    const { t } = ctx();
    const caller = { Authorization: `Bearer ${tokenFor(['analyst'], `limited-${Date.now()}`)}` };
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) {
      statuses.push((await request(t.http).get('/api/v1/trends/top').set(caller)).status);
    }
    expect(statuses.slice(0, LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses[LIMIT]).toBe(429);
    const counters = await keysOn(ctx().masters(), 'topo:{v}:throttle:default:*');
    expect(counters.length).toBeGreaterThanOrEqual(1);
  });

  it('delivers an ingest event on the live stream', async () => {
    const { t, url } = ctx();
    const client = await SseClient.open(`${url}/api/v1/stream?topics=ingest`, analyst);
    try {
      expect(client.status).toBe(200);
      await ingest(t, 'streamed', 3);
      await client.until(() => client.ofType('ingest').length >= 1);
      expect(JSON.parse(client.ofType('ingest')[0].data)).toMatchObject({ accepted: 1 });
    } finally {
      client.close();
    }
  });

  it('clears every key under the prefix on every master', async () => {
    const { t } = ctx();
    await request(t.http).get('/api/v1/trends/top?window=7d').set(analyst);
    const entries = await keysOn(ctx().masters(), 'topo:c:*');
    expect(entries.length).toBeGreaterThanOrEqual(2);
    const stats = await request(t.http).get('/api/v1/admin/cache').set(admin);
    expect(stats.status).toBe(200);
    expect(stats.body.keys).toBeGreaterThanOrEqual(entries.length);

    const cleared = await request(t.http).delete('/api/v1/admin/cache').set(admin);
    expect(cleared.status).toBe(200);
    expect(cleared.body.deleted).toBeGreaterThanOrEqual(entries.length);
    expect(await keysOn(ctx().masters(), 'topo:c:*')).toEqual([]);
    expect(await keysOn(ctx().masters(), 'topo:{v}:*')).toEqual([]);
    const next = await request(t.http).get('/api/v1/trends/top?window=7d').set(analyst);
    expect(next.headers['x-cache']).toBe('MISS');
  });
}

const listen = async (t: TestApp) => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
};

const env = {
  REDIS_KEY_PREFIX: 'topo:',
  DB_MAX_CONNECTIONS: '4',
  THROTTLE_LIMIT: String(LIMIT),
  STREAM_TOP_INTERVAL_S: '60',
};

describe('Redis Cluster', () => {
  const cluster = new ThrowawayRedisCluster();
  let db: TestDatabase;
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    await awayFromHourBoundary();
    await cluster.start();
    db = await createTestDatabase('topo_cluster');
    t = await startTestApp(db, { ...env, REDIS_CLUSTER_NODES: cluster.nodes });
    url = await listen(t);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await cluster.stop();
  });

  sharedBasics(() => ({ t, url, masters: () => cluster.ports }));

  it('spreads answers over the masters while version tokens share one slot', async () => {
    const spreader = { Authorization: `Bearer ${tokenFor(['analyst'], 'spreader')}` };
    for (const window of ['1h', '24h', '7d', '30d']) {
      for (const limit of [5, 6, 7, 8]) {
        const res = await request(t.http)
          .get(`/api/v1/trends/top?window=${window}&limit=${limit}`)
          .set(spreader);
        expect(res.status).toBe(200);
      }
    }
    const withEntries = [];
    for (const port of cluster.ports) {
      if ((await keysOn([port], 'topo:c:*')).length > 0) withEntries.push(port);
    }
    // 16 distinct queries over three masters: all on one would be a (1/3)^15 accident.
    expect(withEntries.length).toBeGreaterThan(1);
    const tokens = new Set<number>();
    for (const port of cluster.ports)
      if ((await keysOn([port], 'topo:{v}:*')).length) tokens.add(port);
    expect(tokens.size).toBe(1);
  });
});

describe('Redis Sentinel', () => {
  const sentinel = new ThrowawaySentinel();
  let db: TestDatabase;
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    await awayFromHourBoundary();
    await sentinel.start();
    db = await createTestDatabase('topo_sentinel');
    t = await startTestApp(db, {
      ...env,
      REDIS_SENTINELS: sentinel.sentinels,
      REDIS_SENTINEL_NAME: sentinel.name,
    });
    url = await listen(t);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await sentinel.stop();
  });

  sharedBasics(() => ({ t, url, masters: () => [sentinel.masterPort] }));

  it('recovers after the master dies and Sentinel promotes the replica, without 5xx', async () => {
    // A subject per request: the loops below would otherwise exceed the rate limit.
    let n = 0;
    const reader = () => ({ Authorization: `Bearer ${tokenFor(['analyst'], `failover-${n++}`)}` });
    await ingest(t, 'before failover', 4);
    const warm = await request(t.http).get('/api/v1/trends/top?window=24h').set(reader());
    expect(warm.status).toBe(200);
    const expected = mentionsOf(warm.body, 'before failover');
    expect(expected).toBe(4);

    const failover = sentinel.failover();
    const statuses = new Set<number>();
    const caches = new Set<string>();
    let done = false;
    void failover.finally(() => (done = true));
    for (let i = 0; i < 400 && !done; i++) {
      const res = await request(t.http).get('/api/v1/trends/top?window=24h').set(reader());
      statuses.add(res.status);
      caches.add(String(res.headers['x-cache']));
      expect(mentionsOf(res.body, 'before failover')).toBe(4);
      await new Promise((r) => setTimeout(r, 50));
    }
    await failover;

    // The promoted replica answers HIT again after at most one MISS, with no restart.
    let status = '';
    for (let i = 0; i < 200 && status !== 'HIT'; i++) {
      const res = await request(t.http).get('/api/v1/trends/top?window=24h').set(reader());
      statuses.add(res.status);
      status = String(res.headers['x-cache']);
      expect(mentionsOf(res.body, 'before failover')).toBe(4);
      if (status !== 'HIT') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('HIT');
    expect([...statuses]).toEqual([200]);

    // Writes after the promotion are exact too.
    await ingest(t, 'before failover', 1, 2);
    const after = await request(t.http).get('/api/v1/trends/top?window=24h').set(reader());
    expect(after.headers['x-cache']).toBe('MISS');
    expect(mentionsOf(after.body, 'before failover')).toBe(5);
  });
});

describe('topology configuration', () => {
  const base = { JWT_SECRET: 'x'.repeat(40) };
  const problem = (extra: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...extra });
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('accepts each topology alone', () => {
    expect(problem({ REDIS_CLUSTER_NODES: 'a:7000, b:7001' })).toBe('');
    expect(problem({ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm' })).toBe('');
    const config = loadConfig({ ...base, REDIS_CLUSTER_NODES: 'a:7000,[::1]:7001' });
    expect(config.redis.clusterNodes).toEqual([
      { host: 'a', port: 7000 },
      { host: '::1', port: 7001 },
    ]);
  });

  it('names the field of each mistake', () => {
    expect(problem({ REDIS_HOST: 'r', REDIS_CLUSTER_NODES: 'a:7000' })).toMatch(
      /REDIS_CLUSTER_NODES: set only one of REDIS_URL\/REDIS_HOST, REDIS_CLUSTER_NODES/,
    );
    expect(
      problem({ REDIS_SENTINELS: 'a:1', REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINEL_NAME: 'm' }),
    ).toMatch(/set only one of REDIS_SENTINELS, REDIS_CLUSTER_NODES/);
    expect(problem({ REDIS_SENTINELS: 'a:26379' })).toMatch(/REDIS_SENTINEL_NAME: required/);
    expect(problem({ REDIS_SENTINEL_NAME: 'm' })).toMatch(/REDIS_SENTINELS: required/);
    expect(problem({ REDIS_CLUSTER_NODES: 'a' })).toMatch(
      /REDIS_CLUSTER_NODES: "a" is not host:port/,
    );
    expect(problem({ REDIS_CLUSTER_NODES: 'a:70000' })).toMatch(/"a:70000" is not host:port/);
    expect(problem({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_KEY_PREFIX: 'x{y}:' })).toMatch(
      /REDIS_KEY_PREFIX: must not contain/,
    );
  });
});
