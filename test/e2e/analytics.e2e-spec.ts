import request from 'supertest';
import { Client } from 'pg';
import { overviewQuery } from '../../src/analytics/analytics.repository';
import { createPartition, partitionFor, PARTITIONED_TABLES } from '../../src/database/partitions';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';
import { float4AsSent } from '../support/observations';
import type { MoverItem } from '../../src/analytics/analytics.service';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

interface Row {
  platform: string;
  region: string;
  trendKey: string;
  observedAt: Date;
  mentions: number;
  engagement: number;
  sentiment: number | null;
}

interface Figures {
  observations: number;
  mentions: number;
  engagement: number;
  distinctTrends: number;
  sentiment: number | null;
}

// Deterministic PRNG so a failure can be reproduced.
function prng(seed: number) {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLATFORMS = ['x', 'tiktok', 'yt'];
const REGIONS = ['US', 'DE', 'GLOBAL'];
// Already normalized (lower case, NFKC), several outside ASCII.
const KEYS = [
  'alpha',
  'beta',
  'café',
  'straße',
  '東京',
  '😀party',
  'ñu',
  'zeta',
  'ω-omega',
  'b',
  'a b',
  'élan',
];

/** Figures of rows, computed here independently of the service (sentiment stored as real, read as its shortest decimal). */
function figures(rows: Row[]): Figures {
  let sws = 0;
  let sm = 0;
  for (const r of rows) {
    if (r.sentiment === null) continue;
    sws += float4AsSent(r.sentiment) * r.mentions;
    sm += r.mentions;
  }
  return {
    observations: rows.length,
    mentions: rows.reduce((s, r) => s + r.mentions, 0),
    engagement: rows.reduce((s, r) => s + r.engagement, 0),
    distinctTrends: new Set(rows.map((r) => r.trendKey)).size,
    sentiment: sm > 0 ? sws / sm : null,
  };
}

function expectFigures(actual: Figures, expected: Figures) {
  const { sentiment, ...rest } = actual;
  const { sentiment: expectedSentiment, ...expectedRest } = expected;
  expect(rest).toEqual(expectedRest);
  expectClose(sentiment, expectedSentiment);
}

function expectClose(actual: number | null, expected: number | null) {
  if (expected === null) {
    expect(actual).toBeNull();
    return;
  }
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(
    1e-9 * Math.max(1, Math.abs(expected)),
  );
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('analytics', () => {
  let db: TestDatabase;
  let t: TestApp;
  const rows: Row[] = [];
  const now = new Date();
  const analyst = bearer(['analyst']);

  const inRange = (from: Date, to: Date, platform?: string, region?: string) =>
    rows.filter(
      (r) =>
        r.observedAt >= from &&
        r.observedAt < to &&
        (platform === undefined || r.platform === platform) &&
        (region === undefined || r.region === region),
    );

  async function ingest(batch: Row[]) {
    for (let i = 0; i < batch.length; i += 1000) {
      const res = await request(t.http)
        .post('/api/v1/trends/observations')
        .set(bearer(['ingest']))
        .send({
          observations: batch.slice(i, i + 1000).map((r) => ({
            platform: r.platform,
            region: r.region,
            trendKey: r.trendKey,
            observedAt: r.observedAt.toISOString(),
            mentions: r.mentions,
            engagement: r.engagement,
            sentiment: r.sentiment,
          })),
        });
      expect(res.status).toBe(201);
      expect(res.body.duplicates).toBe(0);
    }
    rows.push(...batch);
  }

  beforeAll(async () => {
    db = await createTestDatabase('analytics');
    t = await startTestApp(db);
    // Partitions for the data's months, so rows do not sit in DEFAULT partitions.
    const client = await db.connect();
    try {
      const queryable = {
        query: async (sql: string, params?: unknown[]) => (await client.query(sql, params)).rows,
      };
      await client.query('BEGIN');
      for (const spec of PARTITIONED_TABLES) {
        for (const at of [
          new Date(now.getTime() - 40 * DAY),
          new Date(now.getTime() - 10 * DAY),
          now,
        ]) {
          await createPartition(queryable, spec, partitionFor(spec, at));
        }
      }
      await client.query('COMMIT');
    } finally {
      await client.end();
    }

    const random = prng(20261121);
    const seen = new Set<string>();
    const batch: Row[] = [];
    while (batch.length < 4000) {
      const observedAt = new Date(now.getTime() - MIN - Math.floor(random() * 9 * DAY));
      const row: Row = {
        platform: PLATFORMS[Math.floor(random() * PLATFORMS.length)],
        region: REGIONS[Math.floor(random() * REGIONS.length)],
        trendKey: KEYS[Math.floor(random() ** 1.7 * KEYS.length)],
        observedAt,
        mentions: Math.floor(random() * 1000),
        engagement: Math.floor(random() * 5000),
        sentiment: random() < 0.25 ? null : Math.round((random() * 2 - 1) * 1e6) / 1e6,
      };
      const id = `${row.platform}|${row.region}|${row.trendKey}|${observedAt.getTime()}`;
      if (seen.has(id)) continue;
      seen.add(id);
      batch.push(row);
    }
    await ingest(batch);
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  describe('overview', () => {
    const ranges: [string, Date, Date][] = [
      [
        'ragged minutes at both ends',
        new Date(now.getTime() - 7 * DAY - 17 * MIN - 13_000),
        new Date(now.getTime() - DAY + 41 * MIN),
      ],
      [
        'inside one hour',
        new Date(Math.floor(now.getTime() / HOUR) * HOUR - 3 * HOUR + 5 * MIN),
        new Date(Math.floor(now.getTime() / HOUR) * HOUR - 3 * HOUR + 50 * MIN),
      ],
      [
        'whole UTC days',
        new Date(Math.floor(now.getTime() / DAY) * DAY - 5 * DAY),
        new Date(Math.floor(now.getTime() / DAY) * DAY - 2 * DAY),
      ],
      [
        'hour aligned, ragged hours',
        new Date(Math.floor(now.getTime() / HOUR) * HOUR - 80 * HOUR),
        new Date(Math.floor(now.getTime() / HOUR) * HOUR - 3 * HOUR),
      ],
      ['everything', new Date(now.getTime() - 10 * DAY), new Date(now.getTime() + HOUR)],
    ];

    it.each(ranges)(
      'equals the aggregate of raw rows (%s), all scopes',
      async (_label, from, to) => {
        for (const [platform, region] of [
          [undefined, undefined],
          ['x', undefined],
          [undefined, 'DE'],
          ['tiktok', 'GLOBAL'],
        ]) {
          const res = await request(t.http)
            .get('/api/v1/analytics/overview')
            .query({ from: from.toISOString(), to: to.toISOString(), platform, region })
            .set(analyst);
          expect(res.status).toBe(200);
          expect(res.body.from).toBe(from.toISOString());
          expect(res.body.to).toBe(to.toISOString());
          const selected = inRange(from, to, platform, region);
          if (platform === undefined && region === undefined)
            expect(selected.length).toBeGreaterThan(0);
          expectFigures(res.body.totals, figures(selected));
          const platforms = [...new Set(selected.map((r) => r.platform))];
          const expected = platforms
            .map((p) => ({ platform: p, ...figures(selected.filter((r) => r.platform === p)) }))
            .sort((a, b) => b.mentions - a.mentions || byteOrder(a.platform, b.platform));
          expect(res.body.platforms.map((p: { platform: string }) => p.platform)).toEqual(
            expected.map((p) => p.platform),
          );
          res.body.platforms.forEach((p: Figures & { platform: string }, i: number) => {
            const { platform: _p, ...rest } = p;
            const { platform: _e, ...expectedRest } = expected[i];
            expectFigures(rest, expectedRest);
          });
          expect(res.body.previous).toBeUndefined();
        }
      },
    );

    it('compare=previous_period adds the period before and the change', async () => {
      const from = new Date(now.getTime() - 3 * DAY + 7 * MIN);
      const to = new Date(now.getTime() - DAY - 29 * MIN);
      const res = await request(t.http)
        .get('/api/v1/analytics/overview')
        .query({
          from: from.toISOString(),
          to: to.toISOString(),
          compare: 'previous_period',
          region: 'US',
        })
        .set(analyst);
      expect(res.status).toBe(200);
      const current = figures(inRange(from, to, undefined, 'US'));
      const previous = figures(
        inRange(new Date(2 * from.getTime() - to.getTime()), from, undefined, 'US'),
      );
      expectFigures(res.body.totals, current);
      expectFigures(res.body.previous, previous);
      expectFigures(res.body.change, {
        observations: current.observations - previous.observations,
        mentions: current.mentions - previous.mentions,
        engagement: current.engagement - previous.engagement,
        distinctTrends: current.distinctTrends - previous.distinctTrends,
        sentiment:
          current.sentiment === null || previous.sentiment === null
            ? null
            : current.sentiment - previous.sentiment,
      });
    });

    it('an empty range gives zeros and null sentiment', async () => {
      const res = await request(t.http)
        .get('/api/v1/analytics/overview')
        .query({
          from: new Date(now.getTime() - 60 * DAY).toISOString(),
          to: new Date(now.getTime() - 50 * DAY).toISOString(),
        })
        .set(analyst);
      expect(res.status).toBe(200);
      expect(res.body.totals).toEqual({
        observations: 0,
        mentions: 0,
        engagement: 0,
        distinctTrends: 0,
        sentiment: null,
      });
      expect(res.body.platforms).toEqual([]);
    });

    it('EXPLAIN of a 1-day overview touches only the matching rollup partitions', async () => {
      const day = new Date(Math.floor(now.getTime() / DAY) * DAY - 3 * DAY);
      const monthOf = (d: Date) =>
        `${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
      const cases: [Date, Date, string[]][] = [
        // A whole UTC day reads the daily rollup only.
        [day, new Date(day.getTime() + DAY), [`trend_rollups_daily_p${day.getUTCFullYear()}`]],
        // 24 hours not on a day boundary read the hourly rollup of the month(s) they fall in.
        [
          new Date(day.getTime() + 5 * HOUR),
          new Date(day.getTime() + 29 * HOUR),
          [
            ...new Set([
              monthOf(new Date(day.getTime() + 5 * HOUR)),
              monthOf(new Date(day.getTime() + 29 * HOUR - 1)),
            ]),
          ].map((m) => `trend_rollups_hourly_p${m}`),
        ],
      ];
      for (const [from, to, expected] of cases) {
        const { sql, params } = overviewQuery({ from, to }, {});
        const [{ 'QUERY PLAN': plan }] = await db.query<{ 'QUERY PLAN': unknown }>(
          `EXPLAIN (FORMAT JSON) ${sql}`,
          params,
        );
        const relations = new Set<string>();
        const walk = (node: unknown) => {
          if (!node || typeof node !== 'object') return;
          const n = node as Record<string, unknown>;
          if (typeof n['Relation Name'] === 'string') relations.add(n['Relation Name']);
          for (const value of Object.values(n)) {
            if (Array.isArray(value)) value.forEach(walk);
            else if (value && typeof value === 'object') walk(value);
          }
        };
        walk(plan);
        expect([...relations].sort()).toEqual(expected.sort());
      }
    });
  });

  describe('platforms', () => {
    it.each([
      [undefined, new Date(now.getTime() - 6 * DAY - 3 * MIN), new Date(now.getTime() - 11 * MIN)],
      ['GLOBAL', new Date(now.getTime() - 8 * DAY), new Date(now.getTime() - 2 * DAY + 30 * MIN)],
    ])('region %s: equals the aggregate of raw rows, shares sum to 1', async (region, from, to) => {
      const res = await request(t.http)
        .get('/api/v1/analytics/platforms')
        .query({ from: from.toISOString(), to: to.toISOString(), region })
        .set(analyst);
      expect(res.status).toBe(200);
      const selected = inRange(from, to, undefined, region);
      const total = figures(selected).mentions;
      const expected = [...new Set(selected.map((r) => r.platform))]
        .map((platform) => {
          const f = figures(selected.filter((r) => r.platform === platform));
          return {
            platform,
            mentions: f.mentions,
            engagement: f.engagement,
            observations: f.observations,
            distinctTrends: f.distinctTrends,
            share: f.mentions / total,
          };
        })
        .sort((a, b) => b.mentions - a.mentions || byteOrder(a.platform, b.platform));
      expect(res.body).toEqual({ from: from.toISOString(), to: to.toISOString(), items: expected });
      const shareSum = (res.body.items as { share: number }[]).reduce((s, i) => s + i.share, 0);
      expect(Math.abs(shareSum - 1)).toBeLessThan(1e-12);
    });
  });

  describe('movers', () => {
    type Mover = MoverItem;

    /** The movers answer computed from the generated rows (growth compared exactly with BigInt). */
    function expectedMovers(
      current: { from: Date; to: Date },
      previous: { from: Date; to: Date },
      opts: {
        platform?: string;
        region?: string;
        direction: 'rising' | 'falling';
        minMentions: number;
        limit: number;
      },
    ) {
      const sum = (range: { from: Date; to: Date }) => {
        const m = new Map<string, number>();
        for (const r of inRange(range.from, range.to, opts.platform, opts.region))
          m.set(r.trendKey, (m.get(r.trendKey) ?? 0) + r.mentions);
        return m;
      };
      const cur = sum(current);
      const prev = sum(previous);
      const all = [...new Set([...cur.keys(), ...prev.keys()])].map((k) => ({
        trendKey: k,
        mentions: cur.get(k) ?? 0,
        previousMentions: prev.get(k) ?? 0,
      }));
      const kept = all.filter(
        (x) => x.mentions >= opts.minMentions || x.previousMentions >= opts.minMentions,
      );
      const sign = opts.direction === 'rising' ? 1 : -1;
      const items = kept
        .filter((x) => x.previousMentions > 0 && sign * (x.mentions - x.previousMentions) > 0)
        .sort((a, b) => {
          // growth a vs b  <=>  a.m * b.p vs b.m * a.p
          const lhs = BigInt(a.mentions) * BigInt(b.previousMentions);
          const rhs = BigInt(b.mentions) * BigInt(a.previousMentions);
          if (lhs !== rhs) return lhs > rhs ? -sign : sign;
          const change =
            (b.mentions - b.previousMentions - (a.mentions - a.previousMentions)) * sign;
          return change || byteOrder(a.trendKey, b.trendKey);
        })
        .slice(0, opts.limit);
      const fresh = kept
        .filter((x) => x.previousMentions === 0 && x.mentions > 0)
        .sort((a, b) => b.mentions - a.mentions || byteOrder(a.trendKey, b.trendKey))
        .slice(0, opts.limit);
      const shape = (list: typeof all) =>
        list.map((x, i) => ({
          rank: i + 1,
          ...x,
          change: x.mentions - x.previousMentions,
          growth:
            x.previousMentions > 0 ? (x.mentions - x.previousMentions) / x.previousMentions : null,
        }));
      return { items: shape(items), new: shape(fresh) };
    }

    const strip = (list: Mover[]) => list.map(({ displayName: _d, ...rest }) => rest);

    it.each([
      ['24h', 'rising', 1, undefined, undefined],
      ['24h', 'falling', 1, undefined, undefined],
      ['6h', 'rising', 1, 'x', undefined],
      ['7d', 'falling', 1, undefined, 'US'],
      ['1h', 'rising', 1, 'tiktok', 'GLOBAL'],
      ['24h', 'rising', 3000, undefined, undefined],
      ['15m', 'rising', 1, undefined, undefined],
    ] as const)(
      'window %s %s minMentions=%d platform=%s region=%s equals raw rows',
      async (window, direction, minMentions, platform, region) => {
        const at = new Date(now.getTime() - 2 * DAY - 13 * MIN);
        const length = { '15m': 15 * MIN, '1h': HOUR, '6h': 6 * HOUR, '24h': DAY, '7d': 7 * DAY }[
          window
        ];
        const to = window === '15m' ? at : new Date(Math.ceil(at.getTime() / HOUR) * HOUR);
        const current = { from: new Date(to.getTime() - length), to };
        const previous = { from: new Date(to.getTime() - 2 * length), to: current.from };
        const res = await request(t.http)
          .get('/api/v1/analytics/movers')
          .query({
            window,
            direction,
            minMentions,
            platform,
            region,
            at: at.toISOString(),
            limit: 5,
          })
          .set(analyst);
        expect(res.status).toBe(200);
        expect(res.body.window).toEqual({
          from: current.from.toISOString(),
          to: current.to.toISOString(),
        });
        const expected = expectedMovers(current, previous, {
          platform,
          region,
          direction,
          minMentions,
          limit: 5,
        });
        if (window === '24h' && minMentions === 1) expect(expected.items.length).toBeGreaterThan(0);
        if (window === '7d') expect(expected.new.length).toBeGreaterThan(0);
        expect(strip(res.body.items)).toEqual(expected.items);
        expect(strip(res.body.new)).toEqual(expected.new);
      },
    );

    it('orders ties by change, then trend key; new trends apart; minMentions in both windows', async () => {
      const to = new Date(Math.floor(now.getTime() / HOUR) * HOUR - 5 * HOUR);
      const prevAt = new Date(to.getTime() - 2 * HOUR + 10 * MIN);
      const curAt = new Date(to.getTime() - HOUR + 10 * MIN);
      const row = (trendKey: string, observedAt: Date, mentions: number): Row => ({
        platform: 'ties',
        region: 'GLOBAL',
        trendKey,
        observedAt,
        mentions,
        engagement: 0,
        sentiment: null,
      });
      await ingest([
        // growth 1 for three keys; b/c have change 10, a has change 5.
        row('t-a', prevAt, 5),
        row('t-a', curAt, 10),
        row('t-c', prevAt, 10),
        row('t-c', curAt, 20),
        row('t-b', prevAt, 10),
        row('t-b', curAt, 20),
        row('t-up', prevAt, 1),
        row('t-up', curAt, 4), // growth 3
        row('t-down', prevAt, 40),
        row('t-down', curAt, 10), // growth -0.75
        row('t-gone', prevAt, 8), // growth -1
        row('t-small', prevAt, 1),
        row('t-small', curAt, 2), // under minMentions=3 in both windows
        row('t-new', curAt, 7),
        row('t-new2', curAt, 7),
        row('t-tiny', curAt, 2),
      ]);
      const get = (direction: string) =>
        request(t.http)
          .get('/api/v1/analytics/movers')
          .query({
            window: '1h',
            direction,
            platform: 'ties',
            minMentions: 3,
            at: to.toISOString(),
          })
          .set(analyst);
      const rising = await get('rising');
      expect(rising.status).toBe(200);
      expect(rising.body.items.map((i: Mover) => [i.trendKey, i.growth, i.change])).toEqual([
        ['t-up', 3, 3],
        ['t-b', 1, 10],
        ['t-c', 1, 10],
        ['t-a', 1, 5],
      ]);
      expect(
        rising.body.new.map((i: Mover) => [i.rank, i.trendKey, i.previousMentions, i.growth]),
      ).toEqual([
        [1, 't-new', 0, null],
        [2, 't-new2', 0, null],
      ]);
      const falling = await get('falling');
      expect(
        falling.body.items.map((i: Mover) => [
          i.rank,
          i.trendKey,
          i.mentions,
          i.previousMentions,
          i.change,
          i.growth,
        ]),
      ).toEqual([
        [1, 't-gone', 0, 8, -8, -1],
        [2, 't-down', 10, 40, -30, -0.75],
      ]);
      expect(falling.body.items[0].displayName).toBe('t-gone');
    });
  });

  it('answers are cached (X-Cache) and an ingest into the range invalidates them', async () => {
    const query = {
      from: new Date(now.getTime() - 2 * DAY).toISOString(),
      to: new Date(now.getTime() - DAY).toISOString(),
    };
    const first = await request(t.http).get('/api/v1/analytics/overview').query(query).set(analyst);
    const second = await request(t.http)
      .get('/api/v1/analytics/overview')
      .query(query)
      .set(analyst);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);
    const extra: Row = {
      platform: 'x',
      region: 'US',
      trendKey: 'fresh-key',
      observedAt: new Date(now.getTime() - 1.5 * DAY),
      mentions: 11,
      engagement: 3,
      sentiment: 0.5,
    };
    await ingest([extra]);
    const third = await request(t.http).get('/api/v1/analytics/overview').query(query).set(analyst);
    expect(third.headers['x-cache']).toBe('MISS');
    expect(third.body.totals.mentions).toBe(first.body.totals.mentions + 11);
    expectFigures(third.body.totals, figures(inRange(new Date(query.from), new Date(query.to))));
  });

  describe('guards', () => {
    const cases: [string, Record<string, string>, string][] = [
      [
        '/overview',
        { from: new Date(now.getTime() - 401 * DAY).toISOString(), to: now.toISOString() },
        'from',
      ],
      [
        '/platforms',
        { from: new Date(now.getTime() - 401 * DAY).toISOString(), to: now.toISOString() },
        'from',
      ],
      [
        '/overview',
        { from: now.toISOString(), to: new Date(now.getTime() - HOUR).toISOString() },
        'from',
      ],
      ['/overview', { from: now.toISOString(), to: now.toISOString() }, 'from'],
      ['/platforms', { from: '2026-13-01T00:00:00Z' }, 'from'],
      ['/overview', { to: 'yesterday' }, 'to'],
      ['/overview', { compare: 'last_year' }, 'compare'],
      ['/overview', { platform: 'Not A Slug' }, 'platform'],
      ['/platforms', { platform: 'x' }, 'platform'],
      ['/movers', { direction: 'sideways' }, 'direction'],
      ['/movers', { window: '2h' }, 'window'],
      ['/movers', { limit: '0' }, 'limit'],
      ['/movers', { limit: '1001' }, 'limit'],
      ['/movers', { minMentions: '-1' }, 'minMentions'],
      ['/movers', { region: 'XX' }, 'region'],
      ['/movers', { at: 'soon' }, 'at'],
    ];
    it.each(cases)('%s %j → 400 naming %s', async (path, query, field) => {
      const res = await request(t.http).get(`/api/v1/analytics${path}`).query(query).set(analyst);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(res.body.message).toContain(field);
    });

    it('needs role analyst or admin', async () => {
      expect((await request(t.http).get('/api/v1/analytics/overview')).status).toBe(401);
      expect(
        (
          await request(t.http)
            .get('/api/v1/analytics/overview')
            .set(bearer(['ingest']))
        ).status,
      ).toBe(403);
      expect(
        (
          await request(t.http)
            .get('/api/v1/analytics/platforms')
            .set(bearer(['admin']))
        ).status,
      ).toBe(200);
    });

    describe('with a small bucket cap and a short statement timeout', () => {
      let strict: TestApp;
      beforeAll(async () => {
        strict = await startTestApp(db, {
          ANALYTICS_MAX_BUCKETS: '60',
          ANALYTICS_STATEMENT_TIMEOUT_MS: '300',
        });
      });
      afterAll(async () => {
        await strict?.close();
      });

      it('too many buckets → 400 naming the parameter', async () => {
        const base = Math.floor(now.getTime() / DAY) * DAY - 6 * DAY;
        // 23 hourly + 2 daily + 23 hourly buckets = 48: allowed; with compare, 96: refused.
        const query = {
          from: new Date(base + HOUR).toISOString(),
          to: new Date(base + 3 * DAY + 23 * HOUR).toISOString(),
        };
        expect(
          (await request(strict.http).get('/api/v1/analytics/overview').query(query).set(analyst))
            .status,
        ).toBe(200);
        const refused = await request(strict.http)
          .get('/api/v1/analytics/overview')
          .query({ ...query, compare: 'previous_period' })
          .set(analyst);
        expect(refused.status).toBe(400);
        expect(refused.body.errors[0].field).toBe('from');
        const movers = await request(strict.http)
          .get('/api/v1/analytics/movers')
          .query({ window: '90d' })
          .set(analyst);
        expect(movers.status).toBe(400);
        expect(movers.body.errors[0].field).toBe('window');
      });

      it('a query past the statement timeout → 503 with a clear message, and the pool recovers', async () => {
        // A writer holding an exclusive lock on the rollups makes the analytics query wait.
        const blocker: Client = await db.connect();
        try {
          await blocker.query('BEGIN');
          await blocker.query('LOCK TABLE trend_rollups_hourly IN ACCESS EXCLUSIVE MODE');
          const res = await request(strict.http)
            .get('/api/v1/analytics/overview')
            .query({ from: new Date(now.getTime() - 5 * HOUR).toISOString() })
            .set(analyst);
          // The statement-timeout path: a 503 saying so while the lock is still held.
          expect(res.status).toBe(503);
          expect(res.headers['retry-after']).toBeDefined();
          expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
          expect(res.body.message).toMatch(/took too long/);
          expect(JSON.stringify(res.body)).not.toMatch(/SELECT|statement timeout|trend_rollups/i);
        } finally {
          await blocker.query('ROLLBACK');
          await blocker.end();
        }
        for (let i = 0; i < 6; i++) {
          const ok = await request(strict.http).get('/api/v1/analytics/overview').set(analyst);
          expect(ok.status).toBe(200);
        }
      });
    });
  });
});
