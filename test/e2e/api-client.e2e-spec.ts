import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import {
  GeneratedObservation,
  displayNameOf,
  randomObservations,
  seeded,
  storedRows,
} from '../support/observations';
import { bearer } from '../support/tokens';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers */

const HOUR = 3_600_000;
const analyst = bearer(['analyst']);
const admin = bearer(['admin']);

/** RFC 4180 parser written for the test (quoted fields, doubled quotes, CRLF records). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  expect(field).toBe(''); // every record ends with CRLF
  expect(record).toEqual([]);
  return records;
}

/** The CSV field the JSON value must become: numbers with the same digits, null empty. */
const csvField = (value: unknown): string =>
  value === null || value === undefined
    ? ''
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);

describe('API for client developers: CSV, cursors, display names, numbers as sent, platforms', () => {
  let db: TestDatabase;
  let t: TestApp;
  let sent: GeneratedObservation[];
  const at = new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR).toISOString();

  const ingest = async (observations: GeneratedObservation[], app: TestApp = t) =>
    request(app.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations });

  beforeAll(async () => {
    db = await createTestDatabase('api_client');
    t = await startTestApp(db, { DB_MAX_CONNECTIONS: '4' });
    const now = Date.now();
    sent = randomObservations(1500, seeded(19), new Date(now - 47 * HOUR), new Date(now - 60_000));
    // A spelling that needs RFC 4180 quoting; platforms in mixed case are stored lower-case.
    sent.push(
      {
        platform: 'TikTok',
        trendKey: 'quote test',
        displayName: 'Say "hi", world',
        observedAt: new Date(now - 2 * HOUR).toISOString(),
        mentions: 5000,
        sentiment: 0.4,
      },
      {
        platform: 'tiktok',
        trendKey: 'quote test',
        displayName: 'line\nbreak',
        observedAt: new Date(now - HOUR).toISOString(),
        mentions: 10,
      },
    );
    // Several concurrent batches: spellings counted exactly under concurrency too.
    const batches = [];
    for (let i = 0; i < sent.length; i += 300) batches.push(sent.slice(i, i + 300));
    const results = await Promise.all(batches.map((batch) => ingest(batch)));
    expect(results.map((r) => r.status)).toEqual(batches.map(() => 201));
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  describe('CSV', () => {
    const cases: [string, string, (body: any) => Record<string, unknown>[]][] = [
      ['top', `/api/v1/trends/top?window=7d&limit=1000&at=${at}`, (b) => b.items],
      ['search', '/api/v1/trends/search?q=a&limit=1000', (b) => b.items],
      [
        'series',
        `/api/v1/trends/quote%20test/series?interval=hour&from=${new Date(Date.parse(at) - 48 * HOUR).toISOString()}&to=${at}`,
        (b) => b.points,
      ],
      [
        'movers',
        `/api/v1/analytics/movers?window=24h&minMentions=0&limit=1000&at=${at}`,
        (b) => [
          ...b.items.map((i: object) => ({ list: 'items', ...i })),
          ...b.new.map((i: object) => ({ list: 'new', ...i })),
        ],
      ],
      [
        'platforms',
        `/api/v1/analytics/platforms?from=${new Date(Date.parse(at) - 72 * HOUR).toISOString()}&to=${at}`,
        (b) => b.items,
      ],
    ];

    it.each(cases)(
      '%s: CSV has the JSON field names and the same values',
      async (_name, url, rowsOf) => {
        const json = await request(t.http).get(url).set(analyst);
        expect(json.status).toBe(200);
        const rows = rowsOf(json.body);
        expect(rows.length).toBeGreaterThan(0);

        const csv = await request(t.http)
          .get(url)
          .set({ ...analyst, Accept: 'text/csv' });
        expect(csv.status).toBe(200);
        expect(csv.headers['content-type']).toMatch(/^text\/csv/);
        const [header, ...records] = parseCsv(csv.text);
        expect(header).toEqual(Object.keys(rows[0]));
        expect(records).toEqual(rows.map((row) => header.map((column) => csvField(row[column]))));

        // ?format=csv is the same answer; format=json wins over Accept.
        const byParam = await request(t.http).get(`${url}&format=csv`).set(analyst);
        expect(byParam.text).toBe(csv.text);
        const forcedJson = await request(t.http)
          .get(`${url}&format=json`)
          .set({ ...analyst, Accept: 'text/csv' });
        expect(forcedJson.body).toEqual(json.body);
      },
    );

    it('is cached under its own key: a CSV hit stays CSV and a JSON hit stays JSON', async () => {
      const url = `/api/v1/trends/top?window=24h&at=${at}&limit=5`;
      const firstCsv = await request(t.http)
        .get(url)
        .set({ ...analyst, Accept: 'text/csv' });
      const firstJson = await request(t.http).get(url).set(analyst);
      const againCsv = await request(t.http)
        .get(url)
        .set({ ...analyst, Accept: 'text/csv' });
      const againJson = await request(t.http).get(url).set(analyst);
      expect([firstCsv.headers['x-cache'], firstJson.headers['x-cache']]).toEqual(['MISS', 'MISS']);
      expect([againCsv.headers['x-cache'], againJson.headers['x-cache']]).toEqual(['HIT', 'HIT']);
      expect(againCsv.headers['content-type']).toMatch(/^text\/csv/);
      expect(againCsv.text).toBe(firstCsv.text);
      expect(againJson.headers['content-type']).toMatch(/^application\/json/);
      expect(againJson.body).toEqual(firstJson.body);
    });

    it('a route without CSV export answers JSON to Accept: text/csv, on a miss and on a hit', async () => {
      const from = new Date(Date.parse(at) - 24 * HOUR).toISOString();
      const url = `/api/v1/analytics/overview?from=${from}&to=${at}`;
      for (const expected of ['MISS', 'HIT']) {
        const res = await request(t.http)
          .get(url)
          .set({ ...analyst, Accept: 'text/csv' });
        expect([res.status, res.headers['x-cache']]).toEqual([200, expected]);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body.totals).toEqual(expect.objectContaining({ mentions: expect.any(Number) }));
      }
    });

    it('quotes per RFC 4180 (comma, quote) and answers errors as JSON', async () => {
      const csv = await request(t.http)
        .get('/api/v1/trends/search?q=quote&format=csv')
        .set(analyst);
      expect(csv.text.split('\r\n')[1]).toMatch(/^quote test,"Say ""hi"", world",/);
      const bad = await request(t.http)
        .get('/api/v1/trends/top?limit=0')
        .set({ ...analyst, Accept: 'text/csv' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([
        { field: 'limit', message: expect.stringContaining('1000') },
      ]);
    });
  });

  describe('ranked limits', () => {
    it('top, movers and search allow 1000 items and no more', async () => {
      for (const path of [
        '/api/v1/trends/top',
        '/api/v1/analytics/movers',
        '/api/v1/trends/search?q=a&',
      ]) {
        const url = (limit: number) => `${path}${path.includes('?') ? '' : '?'}limit=${limit}`;
        expect((await request(t.http).get(url(1000)).set(analyst)).status).toBe(200);
        const over = await request(t.http).get(url(1001)).set(analyst);
        expect(over.status).toBe(400);
        expect(over.body.errors[0].field).toBe('limit');
      }
    });
  });

  describe('display names', () => {
    it('the spelling with the most mentions over the history, ties by the latest (vs an in-test computation)', async () => {
      const stored = storedRows(sent);
      const top = await request(t.http)
        .get(`/api/v1/trends/top?window=7d&limit=1000&at=${at}`)
        .set(analyst);
      expect(top.status).toBe(200);
      const keys = [...new Set(stored.map((r) => r.key))];
      expect(top.body.items).toHaveLength(keys.length);
      for (const item of top.body.items)
        expect([item.trendKey, item.displayName]).toEqual([
          item.trendKey,
          displayNameOf(stored, item.trendKey),
        ]);
      const search = await request(t.http).get('/api/v1/trends/search?q=&limit=10').set(analyst);
      expect(search.status).toBe(400);
      for (const item of (
        await request(t.http).get('/api/v1/trends/search?q=a&limit=1000').set(analyst)
      ).body.items)
        expect([item.trendKey, item.displayName]).toEqual([
          item.trendKey,
          displayNameOf(stored, item.trendKey),
        ]);
      const movers = await request(t.http)
        .get(`/api/v1/analytics/movers?window=24h&minMentions=0&limit=1000&at=${at}`)
        .set(analyst);
      for (const key of keys.slice(0, 5)) {
        const series = await request(t.http)
          .get(`/api/v1/trends/${encodeURIComponent(key)}/series`)
          .set(analyst);
        expect([key, series.body.displayName]).toEqual([key, displayNameOf(stored, key)]);
      }
      for (const item of [...movers.body.items, ...movers.body.new])
        expect([item.trendKey, item.displayName]).toEqual([
          item.trendKey,
          displayNameOf(stored, item.trendKey),
        ]);
    });

    it('one late observation of an odd spelling does not relabel a big trend', async () => {
      const when = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR).toISOString();
      const oddAt = when(1);
      expect(
        (
          await ingest([
            {
              platform: 'twitter',
              trendKey: 'Final Match',
              observedAt: when(3),
              mentions: 2_600_000,
            },
            {
              platform: 'reddit',
              trendKey: 'final match',
              displayName: 'final match',
              observedAt: when(2),
              mentions: 900,
            },
          ])
        ).status,
      ).toBe(201);
      expect(
        (
          await ingest([
            {
              platform: 'tiktok',
              trendKey: 'Ｆｉｎａｌ　Ｍａｔｃｈ',
              observedAt: oddAt,
              mentions: 7,
            },
          ])
        ).status,
      ).toBe(201);
      const nameNow = async () =>
        (await request(t.http).get('/api/v1/trends/search?q=final%20match').set(analyst)).body
          .items[0].displayName;
      expect(await nameNow()).toBe('Final Match');
      // A tie in mentions goes to the spelling seen latest.
      expect(
        (
          await ingest([
            {
              platform: 'tiktok',
              trendKey: 'FINAL MATCH',
              observedAt: when(0.5),
              mentions: 2_600_000,
            },
          ])
        ).status,
      ).toBe(201);
      expect(await nameNow()).toBe('FINAL MATCH');
      const rows = await db.query<{ display_name: string; mentions: string }>(
        `SELECT display_name, mentions FROM trend_display_names WHERE trend_key = 'final match' ORDER BY display_name COLLATE "C"`,
      );
      expect(rows).toEqual([
        { display_name: 'FINAL MATCH', mentions: '2600000' },
        { display_name: 'Final Match', mentions: '2600000' },
        { display_name: 'final match', mentions: '900' },
        { display_name: 'Ｆｉｎａｌ　Ｍａｔｃｈ', mentions: '7' },
      ]);
      // Re-sent duplicates add nothing.
      await ingest([
        {
          platform: 'tiktok',
          trendKey: 'Ｆｉｎａｌ　Ｍａｔｃｈ',
          observedAt: oddAt,
          mentions: 7,
        },
      ]);
      const again = await db.query<{ mentions: string }>(
        `SELECT mentions FROM trend_display_names WHERE trend_key = 'final match' AND mentions = '7'`,
      );
      expect(again).toHaveLength(1);
    });
  });

  describe('display names and retention', () => {
    it('spellings go with their catalogue entry when retention trims it', async () => {
      const count = async () =>
        (
          await db.query(
            `SELECT count(*)::int AS n FROM trend_display_names WHERE trend_key = 'final match'`,
          )
        )[0];
      expect(await count()).toEqual({ n: 4 });
      await db.query(`DELETE FROM trend_catalog WHERE trend_key = 'final match'`);
      expect(await count()).toEqual({ n: 0 });
    });
  });

  describe('numbers as sent', () => {
    it('a sentiment of 0.4 reads 0.4 in top, series (minute, hour, day) and overview', async () => {
      const observedAt = new Date(Date.now() - 10 * 60_000);
      observedAt.setUTCSeconds(0, 0);
      expect(
        (
          await ingest([
            {
              platform: 'twitter',
              trendKey: 'exact sentiment',
              observedAt: observedAt.toISOString(),
              mentions: 3,
              sentiment: 0.4,
            },
            {
              platform: 'reddit',
              trendKey: 'exact sentiment',
              observedAt: observedAt.toISOString(),
              mentions: 7,
              sentiment: 0.4,
            },
          ])
        ).status,
      ).toBe(201);
      const top = await request(t.http)
        .get('/api/v1/trends/top?window=15m&platform=twitter&limit=1000')
        .set(analyst);
      expect(
        top.body.items.find((i: { trendKey: string }) => i.trendKey === 'exact sentiment')
          .sentiment,
      ).toBe(0.4);
      for (const interval of ['minute', 'hour', 'day']) {
        const series = await request(t.http)
          .get(`/api/v1/trends/exact%20sentiment/series?interval=${interval}`)
          .set(analyst);
        expect(series.status).toBe(200);
        const points = series.body.points.filter((p: { samples: number }) => p.samples > 0);
        expect(points.map((p: { sentiment: number }) => p.sentiment)).toEqual([0.4]);
      }
      const overview = await request(t.http)
        .get(
          `/api/v1/analytics/overview?from=${new Date(observedAt.getTime()).toISOString()}&to=${new Date(observedAt.getTime() + 60_000).toISOString()}`,
        )
        .set(analyst);
      expect(overview.body.totals.sentiment).toBe(0.4);
    });

    it('series: unknown trend → 404 naming it; a known trend with no data in range → zeros', async () => {
      const unknown = await request(t.http).get('/api/v1/trends/never%20seen/series').set(analyst);
      expect(unknown.status).toBe(404);
      expect(unknown.body.message).toContain('"never seen"');
      const quiet = await request(t.http)
        .get(
          '/api/v1/trends/quote%20test/series?interval=day&from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z',
        )
        .set(analyst);
      expect(quiet.status).toBe(200);
      expect(quiet.body.points.map((p: { mentions: number }) => p.mentions)).toEqual([0, 0]);
    });
  });

  describe('platform slugs', () => {
    it('are stored lower-case whatever the case sent; queries accept any case', async () => {
      // Sent as TikTok and tiktok: one platform.
      expect(
        await db.query(
          `SELECT DISTINCT platform FROM trend_observations WHERE trend_key = 'quote test'`,
        ),
      ).toEqual([{ platform: 'tiktok' }]);
      const upper = await request(t.http)
        .get(`/api/v1/trends/top?platform=TIKTOK&window=7d&at=${at}`)
        .set(analyst);
      const lower = await request(t.http)
        .get(`/api/v1/trends/top?platform=tiktok&window=7d&at=${at}`)
        .set(analyst);
      expect(upper.body).toEqual(lower.body);
      expect(lower.body.items.length).toBeGreaterThan(0);
    });

    it('PLATFORMS allow-list: another platform is a 400 naming platform, and nothing is stored', async () => {
      const strict = await startTestApp(db, {
        DB_MAX_CONNECTIONS: '2',
        PLATFORMS: 'Twitter, tiktok',
      });
      try {
        const before = await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM trend_observations',
        );
        const observedAt = new Date(Date.now() - HOUR).toISOString();
        const res = await ingest(
          [
            { platform: 'TWITTER', trendKey: 'allowed', observedAt, mentions: 1 },
            { platform: 'twiter', trendKey: 'typo', observedAt, mentions: 1 },
          ],
          strict,
        );
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([
          { index: 1, field: 'platform', message: 'must be one of twitter, tiktok (PLATFORMS)' },
        ]);
        expect(await db.query('SELECT count(*) AS n FROM trend_observations')).toEqual(before);
        expect(
          (
            await ingest(
              [{ platform: 'TWITTER', trendKey: 'allowed', observedAt, mentions: 1 }],
              strict,
            )
          ).status,
        ).toBe(201);
      } finally {
        await strict.close();
      }
    });
  });

  describe('cursor pagination', () => {
    /**
     * Walks a list page by page while rows are inserted between pages, and checks it saw
     * exactly the rows present at the start, newest first, once each.
     */
    async function walk(
      url: string,
      expected: string[],
      insertMore: () => Promise<void>,
    ): Promise<void> {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 100; page++) {
        const res: request.Response = await request(t.http)
          .get(`${url}${url.includes('?') ? '&' : '?'}limit=7${cursor ? `&cursor=${cursor}` : ''}`)
          .set(admin);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(7);
        seen.push(...res.body.items.map((i: { id: string }) => String(i.id)));
        cursor = res.body.nextCursor;
        if (cursor === null) break;
        await insertMore();
      }
      expect(cursor).toBeNull();
      expect(seen).toEqual(expected);
    }

    /** Rows ordered as the API must list them: time descending, then id descending. */
    const newestFirst = async (sql: string) =>
      (await db.query<{ id: string }>(sql)).map((r) => String(r.id));

    it('jobs: 250 runs (many sharing a timestamp) walked without gaps or repeats during inserts', async () => {
      await db.query(`DELETE FROM job_runs`);
      // 250 runs over 50 distinct microsecond timestamps: ties are broken by id.
      await db.query(
        `INSERT INTO job_runs (job, trigger, status, started_at)
         SELECT 'partitions', 'cron', 'succeeded',
                timestamptz '2026-11-01 00:00:00.123456+00' + (g % 50) * interval '1 second 1 microsecond'
         FROM generate_series(1, 250) g`,
      );
      const expected = await newestFirst(
        'SELECT id FROM job_runs ORDER BY started_at DESC, id DESC',
      );
      expect(expected).toHaveLength(250);
      await walk('/api/v1/admin/jobs', expected, async () => {
        // A new run now, and one sharing the newest existing timestamp (higher id).
        await db.query(
          `INSERT INTO job_runs (job, trigger, status, started_at)
           VALUES ('partitions', 'api', 'running', now()),
                  ('partitions', 'api', 'running', (SELECT max(started_at) FROM job_runs WHERE trigger = 'cron'))`,
        );
      });
    });

    it('backups: 250 entries walked without gaps or repeats during inserts', async () => {
      await db.query(
        `INSERT INTO backups (id, file, status, trigger, started_at)
         SELECT 'b' || lpad(g::text, 4, '0'), 'f', 'failed', 'cron',
                timestamptz '2026-10-01 00:00:00+00' + (g % 25) * interval '1 hour'
         FROM generate_series(1, 250) g`,
      );
      const expected = await newestFirst(
        'SELECT id FROM backups ORDER BY started_at DESC, id DESC',
      );
      expect(expected.length).toBeGreaterThanOrEqual(250);
      let n = 0;
      await walk('/api/v1/admin/backups', expected, async () => {
        n++;
        await db.query(
          `INSERT INTO backups (id, file, status, trigger, started_at) VALUES ($1, 'f', 'failed', 'api', now())`,
          [`new${n}`],
        );
      });
    });

    it('audit log: newest first, filters by actor/action/since, 250 entries walked during inserts', async () => {
      await db.query(`DELETE FROM admin_audit_log`);
      await db.query(
        `INSERT INTO admin_audit_log (actor, action, target, at, details)
         SELECT CASE WHEN g % 3 = 0 THEN 'ops' ELSE 'dev' END,
                CASE WHEN g % 2 = 0 THEN 'backup.create' ELSE 'cache.clear' END,
                't' || g, timestamptz '2026-11-02 00:00:00+00' + (g % 40) * interval '1 minute',
                jsonb_build_object('n', g)
         FROM generate_series(1, 250) g`,
      );
      const all = await db.query<{ id: string; actor: string; action: string; at: Date }>(
        'SELECT id, actor, action, at FROM admin_audit_log ORDER BY at DESC, id DESC',
      );
      await walk(
        '/api/v1/admin/audit',
        all.map((r) => String(r.id)),
        async () => {
          await db.query(
            `INSERT INTO admin_audit_log (actor, action, target) VALUES ('ops', 'cache.clear', 'new')`,
          );
        },
      );
      const since = '2026-11-02T00:20:00Z';
      const expected = all
        .filter(
          (r) =>
            r.actor === 'ops' &&
            r.action === 'backup.create' &&
            r.at.getTime() >= Date.parse(since),
        )
        .map((r) => String(r.id));
      const filtered = await request(t.http)
        .get(`/api/v1/admin/audit?actor=ops&action=backup.create&since=${since}&limit=500`)
        .set(admin);
      expect(filtered.status).toBe(200);
      expect(filtered.body.items.map((i: { id: string }) => i.id)).toEqual(expected);
      expect(filtered.body.nextCursor).toBeNull();
      expect(filtered.body.items[0]).toEqual({
        id: expected[0],
        actor: 'ops',
        action: 'backup.create',
        target: expect.stringMatching(/^t\d+$/),
        at: expect.any(String),
        details: { n: expect.any(Number) },
      });
      // Only admins read it; a forged cursor is a 400 naming cursor.
      expect((await request(t.http).get('/api/v1/admin/audit').set(analyst)).status).toBe(403);
      const forged = await request(t.http)
        .get('/api/v1/admin/audit?cursor=bm90LWEtY3Vyc29y')
        .set(admin);
      expect(forged.status).toBe(400);
      expect(forged.body.errors[0].field).toBe('cursor');
    });
  });
});
