import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';

const URL = '/api/v1/trends/observations';

describe('POST /api/v1/trends/observations', () => {
  let db: TestDatabase;
  let t: TestApp;
  const recent = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
  const valid = (overrides: Record<string, unknown> = {}) => ({
    platform: 'twitter',
    trendKey: 'Ingest Test',
    observedAt: recent(10),
    mentions: 10,
    ...overrides,
  });
  const post = (body: unknown) =>
    request(t.http)
      .post(URL)
      .set(bearer(['ingest']))
      .send(body as object);
  const count = async (table = 'trend_observations') =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0].n);

  beforeAll(async () => {
    db = await createTestDatabase('ingest');
    t = await startTestApp(db, { INGEST_MAX_BODY: '64KiB', INGEST_MAX_BATCH: '50' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('stores normalized values with defaults', async () => {
    const at = '2026-11-20T10:15:30.123456+02:00';
    const res = await post({
      observations: [
        valid({
          trendKey: '  Ｆｕｌｌ Width KEY ',
          region: 'us',
          observedAt: new Date(Date.now() - 3600_000).toISOString(),
        }),
        {
          platform: 'tiktok',
          trendKey: 'Micro',
          observedAt: at,
          mentions: 3,
          sentiment: 0.5,
          sourceId: 's-1',
          metadata: { lang: 'en' },
        },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ accepted: 2, duplicates: 0 });
    const rows = await db.query<Record<string, unknown>>(
      `SELECT platform, region, trend_key, display_name, mentions::int, engagement::int, sentiment, source_id, metadata,
              to_char(observed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at
       FROM trend_observations ORDER BY platform DESC`,
    );
    expect(rows[0]).toMatchObject({
      platform: 'twitter',
      region: 'US',
      trend_key: 'full width key',
      display_name: 'Ｆｕｌｌ Width KEY',
      engagement: 0,
      sentiment: null,
      source_id: null,
      metadata: null,
    });
    expect(rows[1]).toMatchObject({
      region: 'GLOBAL',
      trend_key: 'micro',
      display_name: 'Micro',
      sentiment: 0.5,
      source_id: 's-1',
      metadata: { lang: 'en' },
      at: '2026-11-20T08:15:30.123456', // offset applied, microseconds kept
    });
  });

  it('is idempotent: resending a batch accepts nothing and changes no rollup', async () => {
    const batch = {
      observations: [
        valid({ trendKey: 'idem', observedAt: recent(30) }),
        valid({ trendKey: 'idem', observedAt: recent(20) }),
      ],
    };
    expect((await post(batch)).body).toEqual({ accepted: 2, duplicates: 0 });
    const before = await db.query(
      `SELECT * FROM trend_rollups_hourly WHERE trend_key = 'idem' ORDER BY bucket`,
    );
    expect((await post(batch)).body).toEqual({ accepted: 0, duplicates: 2 });
    expect(
      await db.query(`SELECT * FROM trend_rollups_hourly WHERE trend_key = 'idem' ORDER BY bucket`),
    ).toEqual(before);
  });

  it('counts duplicates inside one batch once (same key after normalization)', async () => {
    const at = recent(40);
    const res = await post({
      observations: [
        valid({ trendKey: 'Dup', observedAt: at, mentions: 5 }),
        valid({ trendKey: ' dup ', observedAt: at, mentions: 7 }),
        valid({ trendKey: 'dup', observedAt: at, region: 'GB', mentions: 1 }),
      ],
    });
    expect(res.body).toEqual({ accepted: 2, duplicates: 1 });
    const [rollup] = await db.query<{ m: string }>(
      `SELECT sum(mentions) AS m FROM trend_rollups_daily WHERE trend_key = 'dup'`,
    );
    expect(Number(rollup.m)).toBe(6); // the first of the duplicates wins
  });

  it('keeps rollups equal to the aggregate of raw rows', async () => {
    const mismatches = await db.query(`
      SELECT * FROM (
        SELECT date_trunc('hour', observed_at, 'UTC') AS bucket, platform, region, trend_key,
               sum(mentions) AS mentions, sum(engagement) AS engagement, count(*) AS samples,
               coalesce(sum(mentions) FILTER (WHERE sentiment IS NOT NULL), 0) AS sm
        FROM trend_observations GROUP BY 1, 2, 3, 4) raw
      FULL JOIN trend_rollups_hourly r USING (bucket, platform, region, trend_key)
      WHERE raw.mentions IS DISTINCT FROM r.mentions OR raw.engagement IS DISTINCT FROM r.engagement
         OR raw.samples IS DISTINCT FROM r.samples OR raw.sm IS DISTINCT FROM r.sentiment_mentions`);
    expect(mismatches).toEqual([]);
    expect(await count('trend_rollups_hourly')).toBeGreaterThan(0);
  });

  const invalidItems: [string, Record<string, unknown>][] = [
    ['platform', { platform: 'Not A Slug' }],
    ['platform', { platform: undefined }],
    ['trendKey', { trendKey: '   ' }],
    ['trendKey', { trendKey: 'x'.repeat(201) }],
    ['trendKey', { trendKey: 42 }],
    ['displayName', { displayName: 'y'.repeat(201) }],
    ['region', { region: 'XX' }],
    ['region', { region: 'USA' }],
    ['observedAt', { observedAt: '2026-11-22 10:00:00' }],
    ['observedAt', { observedAt: '2026-11-22T10:00:00' }],
    ['observedAt', { observedAt: '2026-02-30T10:00:00Z' }],
    ['observedAt', { observedAt: new Date(Date.now() + 3600_000).toISOString() }],
    ['observedAt', { observedAt: new Date(Date.now() - 91 * 86_400_000).toISOString() }],
    ['mentions', { mentions: -1 }],
    ['mentions', { mentions: 1.5 }],
    ['mentions', { mentions: '10' }],
    ['mentions', { mentions: undefined }],
    ['engagement', { engagement: -3 }],
    ['sentiment', { sentiment: 1.01 }],
    ['sentiment', { sentiment: 'positive' }],
    ['sourceId', { sourceId: 'z'.repeat(201) }],
    ['metadata', { metadata: [1, 2] }],
    ['metadata', { metadata: { blob: 'm'.repeat(4100) } }],
    ['colour', { colour: 'red' }],
    ['trendKey', { trendKey: 'nul\u0000key' }],
    ['displayName', { displayName: 'nul\u0000name' }],
    ['sourceId', { sourceId: 'src\u0000' }],
    ['metadata', { metadata: { nested: ['ok', 'bad\u0000'] } }],
  ];

  it.each(invalidItems)(
    'rejects a bad %s with 400 naming index and field, storing nothing',
    async (field, overrides) => {
      const before = await count();
      const res = await post({
        observations: [
          valid({ trendKey: 'ok one', observedAt: recent(1) }),
          valid({ trendKey: 'ok two' }),
          valid({ trendKey: 'bad one', ...overrides }),
        ],
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(res.body.message).toContain(field);
      expect(res.body.errors).toContainEqual(expect.objectContaining({ index: 2, field }));
      expect(res.body.errors.every((e: { index: number }) => e.index === 2)).toBe(true);
      expect(await count()).toBe(before);
    },
  );

  it('lists every bad field of every item', async () => {
    const res = await post({
      observations: [valid({ mentions: -1 }), valid(), valid({ platform: '', sentiment: 9 })],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { index: 0, field: 'mentions', message: expect.any(String) },
      { index: 2, field: 'platform', message: expect.any(String) },
      { index: 2, field: 'sentiment', message: expect.any(String) },
    ]);
  });

  it.each([
    ['an empty batch', { observations: [] }, 'observations'],
    [
      'a batch over INGEST_MAX_BATCH',
      { observations: Array.from({ length: 51 }, () => valid()) },
      'observations',
    ],
    ['a missing observations array', { items: [] }, 'items'],
    ['a non-array', { observations: {} }, 'observations'],
  ])('rejects %s', async (_label, body, field) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual(expect.objectContaining({ field }));
  });

  it('answers 413 over INGEST_MAX_BODY and stores nothing', async () => {
    const before = await count();
    const big = {
      observations: Array.from({ length: 40 }, (_, i) =>
        valid({ trendKey: `big ${i}`, metadata: { pad: 'p'.repeat(2000) } }),
      ),
    };
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(res.body.statusCode).toBe(413);
    expect(await count()).toBe(before);
  });

  it.each([
    ['malformed JSON', 'application/json', '{"observations": [ {'],
    ['plain text', 'text/plain', 'hello'],
    ['form data', 'application/x-www-form-urlencoded', 'a=1'],
    ['an empty JSON body', 'application/json', ''],
  ])('answers 400 to %s', async (_label, type, payload) => {
    const res = await request(t.http)
      .post(URL)
      .set(bearer(['ingest']))
      .set('Content-Type', type)
      .send(payload);
    expect(res.status).toBe(400);
    expect(res.body.statusCode).toBe(400);
    expect(JSON.stringify(res.body)).not.toMatch(/\bat \w+ \(|node_modules/); // no stack traces
  });

  it('accepts a batch of exactly INGEST_MAX_BATCH items', async () => {
    const items = Array.from({ length: 50 }, (_, i) =>
      valid({ trendKey: `bulk ${i}`, observedAt: recent(i + 1) }),
    );
    const res = await post({ observations: items });
    expect(res.body).toEqual({ accepted: 50, duplicates: 0 });
  });
});

describe('ingest when the database is down', () => {
  it('answers 503 with Retry-After and no partial batch', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { startEmbeddedPostgres } = await import('../../src/database/embedded-postgres');
    const dir = mkdtempSync(join(tmpdir(), 'trend-ingest-outage-'));
    const server = await startEmbeddedPostgres(dir);
    const db = {
      env: {
        DB_HOST: server.host,
        DB_PORT: String(server.port),
        DB_USER: server.user,
        DB_PASSWORD: server.password,
        DB_NAME: 'outage',
      },
    } as unknown as TestDatabase;
    const t = await startTestApp(db);
    try {
      server.stop();
      const res = await request(t.http)
        .post(URL)
        .set(bearer(['ingest']))
        .send({
          observations: [
            { platform: 'x', trendKey: 'down', observedAt: new Date().toISOString(), mentions: 1 },
          ],
        });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.body.message).toMatch(/unavailable/i);
    } finally {
      await t.close();
      server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('query parameters PostgreSQL cannot store', () => {
  it('answers 400, not 500, to a NUL character in a search prefix', async () => {
    const db = await createTestDatabase('nul_query');
    const t = await startTestApp(db);
    try {
      const res = await request(t.http)
        .get('/api/v1/trends/search')
        .query({ q: 'a\u0000b' })
        .set(bearer(['analyst']));
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/U\+0000/);
    } finally {
      await t.close();
      await db.drop();
    }
  });
});

describe('database unreachable from the start', () => {
  it('answers 503 with Retry-After (not 500) while the service is still connecting', async () => {
    const { createApp } = await import('../../src/app.factory');
    const { loadConfig } = await import('../../src/config/config');
    const { freePort } = await import('../../src/common/free-port');
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      JWT_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
      DB_HOST: '127.0.0.1',
      DB_PORT: String(await freePort()), // nothing listens there
      DB_NAME: 'never_reached',
      JOBS_ENABLED: 'false',
    });
    const app = await createApp(config);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    try {
      const post = await request(app.getHttpServer())
        .post(URL)
        .set(bearer(['ingest']))
        .send({
          observations: [
            { platform: 'x', trendKey: 'k', observedAt: new Date().toISOString(), mentions: 1 },
          ],
        });
      expect(post.status).toBe(503);
      expect(post.headers['retry-after']).toBeDefined();
      const top = await request(app.getHttpServer())
        .get('/api/v1/trends/top')
        .set(bearer(['analyst']));
      expect(top.status).toBe(503);
      expect((await request(app.getHttpServer()).get('/health/ready')).status).toBe(503);
    } finally {
      await app.close();
    }
  });
});

describe('URLs at the edges', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('urls');
    t = await startTestApp(db);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('serves the series of a 200-character trend key', async () => {
    const key = 'ü'.repeat(200); // 400 bytes of UTF-8, 1,200 characters percent-encoded
    const observedAt = new Date(Date.now() - 60_000).toISOString();
    const ingest = await request(t.http)
      .post(URL)
      .set(bearer(['ingest']))
      .send({ observations: [{ platform: 'x', trendKey: key, observedAt, mentions: 4 }] });
    expect(ingest.status).toBe(201);
    const res = await request(t.http)
      .get(`/api/v1/trends/${encodeURIComponent(key)}/series?interval=hour`)
      .set(bearer(['analyst']));
    expect(res.status).toBe(200);
    expect(
      res.body.points.reduce((sum: number, p: { mentions: number }) => sum + p.mentions, 0),
    ).toBe(4);
  });

  it('answers an undecodable URL with the common 400 body', async () => {
    const res = await request(t.http)
      .get('/api/v1/trends/%ff/series')
      .set(bearer(['analyst']));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      requestId: expect.any(String),
    });
  });
});
