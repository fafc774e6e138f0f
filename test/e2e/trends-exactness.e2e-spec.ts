import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import {
  GeneratedObservation,
  StoredObservation,
  byteOrder,
  displayNameOf,
  expectClose,
  groupByKey,
  inRange,
  normalizeKey,
  randomObservations,
  seeded,
  storedRows,
  totals,
} from '../support/observations';
import { bearer } from '../support/tokens';
import { awayFromHourBoundary } from '../support/clock';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WINDOW_MS: Record<string, number> = {
  '15m': 900_000,
  '1h': HOUR,
  '6h': 6 * HOUR,
  '24h': DAY,
  '7d': 7 * DAY,
};

/**
 * Every answer of top, series and search equals an in-test computation over the same random
 * observations (duplicates, unicode keys, null sentiments, several platforms and regions).
 */
describe('trend queries are exact', () => {
  let db: TestDatabase;
  let t: TestApp;
  let sent: GeneratedObservation[];
  let stored: StoredObservation[];
  const now = new Date();

  beforeAll(async () => {
    await awayFromHourBoundary(); // the default window must not move mid-file
    db = await createTestDatabase('exact');
    t = await startTestApp(db);
    const random = seeded(20261122);
    const fresh = randomObservations(
      3000,
      random,
      new Date(now.getTime() - 9 * DAY),
      new Date(now.getTime() - 1000),
    );
    // The hour in progress may have just begun: give the current-hour window rows of its own
    // (a few ms after the hour's start at the earliest, within the allowed future skew).
    const hourStart = Math.floor(now.getTime() / HOUR) * HOUR;
    const currentHour = randomObservations(
      60,
      random,
      new Date(hourStart),
      new Date(Math.max(now.getTime() - 1000, hourStart + 500)),
    );
    // Resend a slice: duplicates across batches must not count twice.
    sent = [...fresh, ...currentHour, ...fresh.slice(0, 400)];
    for (let i = 0; i < sent.length; i += 700) {
      const res = await request(t.http)
        .post('/api/v1/trends/observations')
        .set(bearer(['ingest']))
        .send({ observations: sent.slice(i, i + 700) });
      expect(res.status).toBe(201);
    }
    stored = storedRows(sent);
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('stores each distinct observation exactly once', async () => {
    const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM trend_observations');
    expect(Number(row.n)).toBe(stored.length);
  });

  function expectedTop(
    from: number,
    to: number,
    limit: number,
    platform?: string,
    region?: string,
  ) {
    const current = groupByKey(inRange(stored, from, to, platform, region));
    const previous = groupByKey(inRange(stored, from - (to - from), from, platform, region));
    return [...current.entries()]
      .map(([key, rows]) => ({
        key,
        ...totals(rows),
        previous: totals(previous.get(key) ?? []).mentions,
      }))
      .sort((a, b) => b.mentions - a.mentions || byteOrder(a.key, b.key))
      .slice(0, limit);
  }

  const ceilHour = (ms: number) => Math.ceil(ms / HOUR) * HOUR;
  const cases: { window: string; at?: Date; platform?: string; region?: string; limit: number }[] =
    [
      { window: '24h', limit: 20 },
      { window: '1h', limit: 5 },
      { window: '6h', at: new Date(now.getTime() - 2 * DAY - 1234567), limit: 10 },
      { window: '7d', limit: 100, platform: 'tiktok' },
      { window: '7d', at: new Date(now.getTime() - 31 * 60_000), limit: 8, region: 'US' },
      { window: '24h', platform: 'reddit', region: 'GLOBAL', limit: 3 },
      { window: '15m', at: new Date(now.getTime() - 3 * HOUR), limit: 20 },
    ];

  it.each(cases)('top window=$window platform=$platform region=$region', async (c) => {
    const query: Record<string, string | number> = { window: c.window, limit: c.limit };
    if (c.at) query.at = c.at.toISOString();
    if (c.platform) query.platform = c.platform;
    if (c.region) query.region = c.region;
    const res = await request(t.http)
      .get('/api/v1/trends/top')
      .query(query)
      .set(bearer(['analyst']));
    expect(res.status).toBe(200);

    const to =
      c.window === '15m'
        ? (c.at ?? now).getTime()
        : c.at
          ? ceilHour(c.at.getTime())
          : Math.floor(Date.now() / HOUR) * HOUR + HOUR;
    const from = to - WINDOW_MS[c.window];
    expect(res.body.window).toEqual({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    });
    const expected = expectedTop(from, to, c.limit, c.platform, c.region);
    expect(expected.length).toBeGreaterThan(0);
    expect(res.body.items.map((i: { trendKey: string }) => i.trendKey)).toEqual(
      expected.map((e) => e.key),
    );
    res.body.items.forEach((item: Record<string, number | string | null>, i: number) => {
      const e = expected[i];
      expect(item).toMatchObject({
        rank: i + 1,
        trendKey: e.key,
        displayName: displayNameOf(stored, e.key),
        mentions: e.mentions,
        engagement: e.engagement,
        previousMentions: e.previous,
      });
      expectClose(item.sentiment as number | null, e.sentiment);
      expectClose(
        item.growth as number | null,
        e.previous > 0 ? (e.mentions - e.previous) / e.previous : null,
      );
    });
  });

  const popular = () => {
    const counts = groupByKey(stored);
    return [...counts.entries()].sort((a, b) => b[1].length - a[1].length)[0][0];
  };

  it.each([
    { interval: 'hour', step: HOUR, span: 3 * DAY + 5 * HOUR },
    { interval: 'day', step: DAY, span: 10 * DAY },
    { interval: 'minute', step: 60_000, span: 5 * HOUR },
  ])('series interval=$interval equals bucketed raw rows', async ({ interval, step, span }) => {
    const key = popular();
    const to = new Date(Math.ceil(Date.now() / step) * step);
    const from = new Date(to.getTime() - span);
    for (const platform of [undefined, 'twitter']) {
      const query: Record<string, string> = {
        interval,
        from: from.toISOString(),
        to: to.toISOString(),
      };
      if (platform) query.platform = platform;
      const res = await request(t.http)
        .get(`/api/v1/trends/${encodeURIComponent(key)}/series`)
        .query(query)
        .set(bearer(['analyst']));
      expect(res.status).toBe(200);
      expect(res.body.trendKey).toBe(key);
      expect(res.body.points).toHaveLength(span / step);
      const mine = inRange(stored, from.getTime(), to.getTime(), platform).filter(
        (r) => r.key === key,
      );
      res.body.points.forEach(
        (p: {
          bucket: string;
          mentions: number;
          engagement: number;
          samples: number;
          sentiment: number | null;
        }) => {
          const start = new Date(p.bucket).getTime();
          const expected = totals(mine.filter((r) => r.at >= start && r.at < start + step));
          expect(p).toMatchObject({
            mentions: expected.mentions,
            engagement: expected.engagement,
            samples: expected.samples,
          });
          expectClose(p.sentiment, expected.sentiment);
        },
      );
      // non-trivial: the data actually lands in these buckets
      expect(res.body.points.some((p: { mentions: number }) => p.mentions > 0)).toBe(true);
    }
  });

  it('series accepts the raw (un-normalized) spelling of a key', async () => {
    const res = await request(t.http)
      .get(`/api/v1/trends/${encodeURIComponent('Ｗｏｒｌｄ Ｃｕｐ')}/series`)
      .set(bearer(['analyst']));
    expect(res.status).toBe(200);
    expect(res.body.trendKey).toBe('world cup');
  });

  it.each(['a', 'caf', 'WORLD', '東京'])('search q=%s', async (q) => {
    const res = await request(t.http)
      .get('/api/v1/trends/search')
      .query({ q, limit: 50 })
      .set(bearer(['analyst']));
    expect(res.status).toBe(200);
    const prefix = normalizeKey(q);
    const windowEnd = Math.floor(Date.now() / HOUR) * HOUR + HOUR;
    const keys = [...groupByKey(stored).keys()].filter((k) => k.startsWith(prefix));
    const expected = keys
      .map((key) => ({
        trendKey: key,
        displayName: displayNameOf(stored, key),
        lastSeen: new Date(
          Math.max(...stored.filter((r) => r.key === key).map((r) => r.at)),
        ).toISOString(),
        mentions24h: totals(
          inRange(stored, windowEnd - DAY, windowEnd).filter((r) => r.key === key),
        ).mentions,
      }))
      .sort((a, b) => b.mentions24h - a.mentions24h || byteOrder(a.trendKey, b.trendKey));
    expect(expected.length).toBeGreaterThan(0);
    expect(res.body.items).toEqual(expected);
  });
});
