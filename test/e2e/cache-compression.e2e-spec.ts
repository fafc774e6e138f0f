import Redis from 'ioredis';
import request from 'supertest';
import { brotliDecompressSync } from 'node:zlib';
import { TestApp } from '../support/app';
import { Replicas, startReplicas, stopReplicas } from '../support/replicas';
import { awayFromHourBoundary } from '../support/clock';
import { testPrefix } from '../support/redis';
import { bearer } from '../support/tokens';

/**
 * Large answers are stored brotli-compressed in Redis and served byte-exact (by the interceptor
 * and by the fast path, from Redis and from L1); small ones stay plain; the admin stats report
 * raw vs stored bytes.
 */
const analyst = bearer(['analyst']);
const admin = bearer(['admin']);
const DAY = 86_400_000;

describe('cache compression (shared Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  let replicas: Replicas | undefined;
  const prefix = testPrefix('compress');

  /** The stored value of every entry key under the prefix (c: and l:). */
  async function entries(): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}[cl]:*`, 'COUNT', 1000);
      for (const key of keys) out.set(key, (await redis.getBuffer(key)) as Buffer);
      cursor = next;
    } while (cursor !== '0');
    return out;
  }

  beforeAll(async () => {
    await awayFromHourBoundary();
    // No L1 on b: every hit of b reads (and decompresses) the Redis entry.
    replicas = await startReplicas(
      'compress',
      prefix,
      { DB_MAX_CONNECTIONS: '3' },
      { CACHE_L1_MAX_MB: '0' },
    );
    ({ a, b, redis } = replicas);
    const now = Date.now();
    const at = new Date(Math.max(now - 60_000, Math.floor(now / DAY) * DAY)).toISOString();
    const observations = Array.from({ length: 60 }, (_, i) => ({
      platform: 'x',
      trendKey: `trend ${i} é🚀`,
      observedAt: at,
      mentions: i + 1,
    }));
    const res = await request(a.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations });
    expect(res.status).toBe(201);
  });
  afterAll(() => stopReplicas(replicas));

  it('stores a large answer compressed and serves it byte-exact from every path', async () => {
    const url = '/api/v1/trends/top?window=24h&limit=100';
    const miss = await request(a.http).get(url).set(analyst);
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(Buffer.byteLength(miss.text)).toBeGreaterThan(1024);
    expect(miss.body.items).toHaveLength(60);

    const stored = [...(await entries()).values()];
    expect(stored).toHaveLength(2); // exact + latest
    for (const value of stored) {
      const newline = value.indexOf(0x0a);
      expect(value.toString('latin1', 0, newline)).toMatch(/^\d+ br$/);
      expect(brotliDecompressSync(value.subarray(newline + 1)).toString('utf8')).toBe(miss.text);
      expect(value.length).toBeLessThan(Buffer.byteLength(miss.text) / 2);
    }

    // a: L1 (fast path after the first request planned the route); b: Redis every time.
    for (const app of [a, a, b, b, b]) {
      const hit = await request(app.http).get(url).set(analyst);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.text).toBe(miss.text);
    }
    const csv = await request(b.http).get(`${url}&format=csv`).set(analyst);
    expect(csv.headers['x-cache']).toBe('MISS');
    const csvHit = await request(b.http).get(`${url}&format=csv`).set(analyst);
    expect(csvHit.headers['x-cache']).toBe('HIT');
    expect(csvHit.text).toBe(csv.text);
    expect(csvHit.text).toContain('trend 59 é🚀');
  });

  it('keeps a small answer plain', async () => {
    const small = await request(a.http).get('/api/v1/trends/top?window=24h&limit=1').set(analyst);
    expect(small.headers['x-cache']).toBe('MISS');
    expect(Buffer.byteLength(small.text)).toBeLessThan(1024);
    const plain = [...(await entries()).values()].filter((v) =>
      v.toString('utf8').endsWith(`\n${small.text}`),
    );
    expect(plain).toHaveLength(2);
    for (const value of plain) expect(value.toString('utf8')).toMatch(/^\d+\n\{/);
    const hit = await request(b.http).get('/api/v1/trends/top?window=24h&limit=1').set(analyst);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.text).toBe(small.text);
  });

  it('reports raw vs stored bytes of what each replica wrote', async () => {
    const statsA = (await request(a.http).get('/api/v1/admin/cache').set(admin)).body;
    const statsB = (await request(b.http).get('/api/v1/admin/cache').set(admin)).body;
    const all = await entries();
    let storedBytes = 0;
    let rawBytes = 0;
    let compressed = 0;
    for (const value of all.values()) {
      storedBytes += value.length;
      const newline = value.indexOf(0x0a);
      const header = value.toString('latin1', 0, newline);
      const body = header.endsWith(' br')
        ? brotliDecompressSync(value.subarray(newline + 1))
        : value.subarray(newline + 1);
      if (header.endsWith(' br')) compressed++;
      rawBytes += body.length;
    }
    // Every entry was written exactly once, by a (JSON) or b (CSV).
    const written = ['entries', 'compressed', 'rawBytes', 'storedBytes'].map(
      (k) => statsA.written[k] + statsB.written[k],
    );
    expect(written).toEqual([all.size, compressed, rawBytes, storedBytes]);
    expect(statsA.written.storedBytes).toBeLessThan(statsA.written.rawBytes);
  });
});
