import Redis from 'ioredis';
import request from 'supertest';
import { ReadReplicasService } from '../../src/database/read-replicas.service';
import { MetricsService } from '../../src/monitoring/metrics/metrics.service';
import { TestApp, startTestApp } from '../support/app';
import { awayFromHourBoundary } from '../support/clock';
import { TestDatabase } from '../support/database';
import { SHARED_REDIS, ThrowawayRedis, deletePrefix, freePort, testPrefix } from '../support/redis';
import { StreamingPair } from '../support/streaming-replica';
import { bearer } from '../support/tokens';

/**
 * SPEC §14 against a real primary and a real streaming replica (started here on free ports):
 * reads of the query endpoints land on the replica, stay exact while replay is paused, and
 * fall back to the primary without errors while the replica is down (also at start-up).
 */

const DAY = 86_400_000;
const analyst = bearer(['analyst']);
const admin = bearer(['admin']);
const DB_NAME = 'trends_replica_e2e';

interface Observation {
  platform: string;
  trendKey: string;
  observedAt: string;
  mentions: number;
}

/** A few minutes ago, but inside today (UTC) so day-scoped cache versions stay simple. */
function recent(minutesAgo: number): string {
  const now = Date.now();
  return new Date(Math.max(now - minutesAgo * 60_000, Math.floor(now / DAY) * DAY)).toISOString();
}

const mentionsOf = (body: { items: Array<{ trendKey: string; mentions: number }> }, key: string) =>
  body.items.find((i) => i.trendKey === key)?.mentions;

type Reads = Record<'primary' | 'replica', number> & { reasons: Record<string, number> };

async function reads(t: TestApp): Promise<Reads> {
  const metric = await t.app.get(MetricsService).dbReads.get();
  const out: Reads = { primary: 0, replica: 0, reasons: {} };
  for (const v of metric.values) {
    const target = v.labels.target as 'primary' | 'replica';
    out[target] += v.value;
    if (target === 'primary') {
      const reason = String(v.labels.reason);
      out.reasons[reason] = (out.reasons[reason] ?? 0) + v.value;
    }
  }
  return out;
}

const delta = (after: Reads, before: Reads) => ({
  primary: after.primary - before.primary,
  replica: after.replica - before.replica,
  reasons: Object.fromEntries(
    Object.entries(after.reasons)
      .map(([k, v]) => [k, v - (before.reasons[k] ?? 0)])
      .filter(([, v]) => (v as number) > 0),
  ),
});

describe('read replicas (real primary + streaming replica)', () => {
  let pair: StreamingPair;
  let t: TestApp;
  let redis: Redis;
  const prefix = testPrefix('replicas');
  /** Everything ingested, so expectations are computed here, independently of the service. */
  const ingested: Observation[] = [];

  const env = (): Record<string, string> => ({
    DB_HOST: '127.0.0.1',
    DB_PORT: String(pair.primary.port),
    DB_USER: 'postgres',
    DB_PASSWORD: '',
    DB_NAME,
    DB_MAX_CONNECTIONS: '4',
    DB_READ_HOST: '127.0.0.1',
    DB_READ_PORT: String(pair.replica.port),
    DB_READ_POOL_MAX: '2',
    ...SHARED_REDIS,
    REDIS_KEY_PREFIX: prefix,
  });
  // startTestApp reads only `env` from the database handle; the pair's primary is the server.
  const database = (overrides: Record<string, string | undefined> = {}) => {
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...env(), ...overrides }))
      if (v !== undefined) merged[k] = v;
    return { env: merged } as unknown as TestDatabase;
  };

  /** Pauses replay, runs `fn`, resumes (also when `fn` throws). */
  async function withReplayPaused(fn: () => Promise<void>): Promise<void> {
    await pair.replica.query('SELECT pg_wal_replay_pause()');
    try {
      await fn();
    } finally {
      await pair.replica.query('SELECT pg_wal_replay_resume()');
    }
  }

  /** Exact reads while the replica is behind: the primary answered every one of them. */
  async function expectExactFromPrimary(app: TestApp): Promise<Reads> {
    const before = await reads(app);
    await expectExactReads(app);
    const moved = delta(await reads(app), before);
    expect(moved.replica).toBe(0);
    expect(moved.primary).toBe(3);
    return { primary: moved.primary, replica: moved.replica, reasons: moved.reasons };
  }

  /** Once caught up and checked, the replica answers again (bounded wait for reconnects). */
  async function expectReplicaUsedAgain(app: TestApp): Promise<void> {
    await replicaReady(app);
    let used = 0;
    for (let i = 0; i < 40 && used === 0; i++) {
      const before = await reads(app);
      await expectExactReads(app);
      used = delta(await reads(app), before).replica;
      if (used === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(used).toBeGreaterThan(0);
  }

  const expected = (key: string, platform?: string) =>
    ingested
      .filter((o) => o.trendKey === key && (platform === undefined || o.platform === platform))
      .reduce((sum, o) => sum + o.mentions, 0);
  const expectedTotal = () => ingested.reduce((sum, o) => sum + o.mentions, 0);

  async function ingest(app: TestApp, observations: Observation[]): Promise<void> {
    const res = await request(app.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations });
    expect(res.status).toBe(201);
    ingested.push(...observations);
  }

  const get = (app: TestApp, url: string, headers: Record<string, string> = {}) =>
    request(app.http).get(url).set(analyst).set(headers);
  const noCache = { 'Cache-Control': 'no-cache' };

  /** Today's range for overview/platforms (whole UTC day, so every observation is inside). */
  const today = () => {
    const start = Math.floor(Date.now() / DAY) * DAY;
    return `from=${new Date(start).toISOString()}&to=${new Date(start + DAY).toISOString()}`;
  };

  /** top + overview + series answered exactly (no cache), whatever served them. */
  async function expectExactReads(app: TestApp): Promise<void> {
    const top = await get(app, '/api/v1/trends/top?window=24h', noCache);
    expect(top.status).toBe(200);
    expect(mentionsOf(top.body, 'alpha')).toBe(expected('alpha'));
    expect(mentionsOf(top.body, 'beta')).toBe(expected('beta'));
    const overview = await get(app, `/api/v1/analytics/overview?${today()}`, noCache);
    expect(overview.status).toBe(200);
    expect(overview.body.totals.mentions).toBe(expectedTotal());
    const series = await get(app, `/api/v1/trends/alpha/series?interval=day&${today()}`, noCache);
    expect(series.status).toBe(200);
    expect(
      series.body.points.reduce((s: number, p: { mentions: number }) => s + p.mentions, 0),
    ).toBe(expected('alpha'));
  }

  async function replicaReady(app: TestApp): Promise<void> {
    await pair.caughtUp();
    const router = app.app.get(ReadReplicasService);
    for (let i = 0; i < 50; i++) {
      await router.checkAll();
      if (router.status().every((r) => r.healthy)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`replica not healthy: ${JSON.stringify(router.status())}`);
  }

  async function replicaCommits(): Promise<number> {
    const [row] = await pair.replica.query<{ n: string }>(
      'SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1',
      [DB_NAME],
    );
    return Number(row?.n ?? 0);
  }

  beforeAll(async () => {
    await awayFromHourBoundary();
    redis = new Redis({ host: '127.0.0.1', port: 6379 });
    pair = await StreamingPair.start();
    t = await startTestApp(database());
    await replicaReady(t);
  });

  afterAll(async () => {
    await t?.close();
    await pair?.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('reads of the query endpoints land on the replica; writes on the primary', async () => {
    await ingest(t, [
      { platform: 'x', trendKey: 'alpha', observedAt: recent(1), mentions: 5 },
      { platform: 'reddit', trendKey: 'beta', observedAt: recent(2), mentions: 3 },
    ]);
    // The write is on the primary (the replica is read-only, and gets it by streaming only).
    const [onPrimary] = await pair.primary.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM trend_observations',
      [],
      DB_NAME,
    );
    expect(Number(onPrimary.n)).toBe(2);
    const [standby] = await pair.replica.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    expect(standby.r).toBe(true);

    await replicaReady(t);
    const commitsBefore = await replicaCommits();
    const before = await reads(t);
    await expectExactReads(t);
    const search = await get(t, '/api/v1/trends/search?q=al', noCache);
    expect(search.body.items.map((i: { trendKey: string }) => i.trendKey)).toEqual(['alpha']);
    const platforms = await get(t, `/api/v1/analytics/platforms?${today()}`, noCache);
    expect(
      platforms.body.items.map((i: { platform: string; mentions: number }) => [
        i.platform,
        i.mentions,
      ]),
    ).toEqual([
      ['x', 5],
      ['reddit', 3],
    ]);
    const movers = await get(t, '/api/v1/analytics/movers?window=24h', noCache);
    expect(movers.status).toBe(200);

    const moved = delta(await reads(t), before);
    expect(moved.primary).toBe(0);
    expect(moved.replica).toBeGreaterThanOrEqual(6);
    // Counted on the replica itself: its transactions on this database went up by as many.
    let commits = 0;
    for (let i = 0; i < 150 && commits < moved.replica; i++) {
      commits = (await replicaCommits()) - commitsBefore;
      if (commits < moved.replica) await new Promise((r) => setTimeout(r, 100));
    }
    expect(commits).toBeGreaterThanOrEqual(moved.replica);
  });

  it('reports the replica in /health, /monitoring/admin/database and /metrics', async () => {
    await t.app.get(ReadReplicasService).checkAll();
    const health = await request(t.http).get('/health');
    expect(health.status).toBe(200);
    const entry = health.body.details.readReplicas;
    expect(entry.status).toBe('up');
    expect(entry.replicas).toEqual([
      expect.objectContaining({
        name: `127.0.0.1:${pair.replica.port}`,
        up: true,
        usedForReads: true,
        lagSeconds: expect.any(Number),
      }),
    ]);

    const info = await request(t.http).get('/monitoring/admin/database').set(admin);
    expect(info.status).toBe(200);
    expect(info.body.readPools).toEqual([
      expect.objectContaining({
        host: '127.0.0.1',
        port: pair.replica.port,
        database: DB_NAME,
        up: true,
        pool: expect.objectContaining({ max: 2 }),
      }),
    ]);
    expect(JSON.stringify(info.body.readPools)).not.toMatch(/password/i);

    const metrics = await request(t.http).get('/metrics');
    expect(metrics.text).toMatch(
      new RegExp(`db_replica_lag_seconds\\{replica="127.0.0.1:${pair.replica.port}"\\} \\d`),
    );
    expect(metrics.text).toMatch(/db_reads_total\{target="replica",reason="replica"\} [1-9]/);
  });

  it('stays exact with replay paused: the primary answers, nothing stale is cached; resumed → replica again', async () => {
    const topUrl = '/api/v1/trends/top?window=24h';
    const overviewUrl = `/api/v1/analytics/overview?${today()}`;
    // Warm the cache (answers computed on the replica).
    await get(t, topUrl);
    await get(t, overviewUrl);
    const warm = await get(t, topUrl);
    expect(warm.headers['x-cache']).toBe('HIT');
    expect(mentionsOf(warm.body, 'alpha')).toBe(expected('alpha'));

    await pair.replica.query('SELECT pg_wal_replay_pause()');
    try {
      await ingest(t, [{ platform: 'x', trendKey: 'alpha', observedAt: recent(3), mentions: 7 }]);
      // The replica really is behind: it still holds the old numbers.
      const [stale] = await pair.replica.query<{ m: string }>(
        `SELECT sum(mentions)::text AS m FROM trend_observations WHERE trend_key = 'alpha'`,
        [],
        DB_NAME,
      );
      expect(Number(stale.m)).toBe(5);
      expect(expected('alpha')).toBe(12);

      const before = await reads(t);
      // Cached reads first (a no-cache answer is stored too, which would make these HITs).
      const cached = await get(t, topUrl);
      expect(cached.headers['x-cache']).toBe('MISS');
      expect(mentionsOf(cached.body, 'alpha')).toBe(12);
      const again = await get(t, topUrl);
      expect(again.headers['x-cache']).toBe('HIT');
      expect(mentionsOf(again.body, 'alpha')).toBe(12);
      const overview = await get(t, overviewUrl);
      expect(overview.body.totals.mentions).toBe(expectedTotal());
      const overviewAgain = await get(t, overviewUrl);
      expect(overviewAgain.headers['x-cache']).toBe('HIT');
      expect(overviewAgain.body.totals.mentions).toBe(expectedTotal());
      await expectExactReads(t);

      const moved = delta(await reads(t), before);
      expect(moved.replica).toBe(0);
      expect(moved.primary).toBeGreaterThanOrEqual(5);
      // Behind the write (or already measured as lagging by the background check).
      for (const reason of Object.keys(moved.reasons))
        expect(['behind_write', 'lagging']).toContain(reason);
    } finally {
      await pair.replica.query('SELECT pg_wal_replay_resume()');
    }

    await replicaReady(t);
    const before = await reads(t);
    await expectExactReads(t);
    const moved = delta(await reads(t), before);
    expect(moved.primary).toBe(0);
    expect(moved.replica).toBeGreaterThanOrEqual(3);
  });

  it('answers every read exactly while the replica is down (also from an app started then), and uses it again once back', async () => {
    await pair.replica.stop();
    let second: TestApp | undefined;
    try {
      await ingest(t, [
        { platform: 'reddit', trendKey: 'beta', observedAt: recent(4), mentions: 4 },
      ]);
      // The first reads still believe the replica healthy: they fail over within the request.
      const before = await reads(t);
      await expectExactReads(t);
      const moved = delta(await reads(t), before);
      expect(moved.replica).toBe(0);
      expect(moved.primary).toBe(3);

      const ready = await request(t.http).get('/health/ready');
      expect(ready.status).toBe(200);
      await t.app.get(ReadReplicasService).checkAll();
      const health = await request(t.http).get('/health');
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('ok');
      expect(health.body.details.readReplicas.status).toBe('down');
      expect(health.body.details.readReplicas.replicas[0].up).toBe(false);

      // Start-up with the replica down works.
      second = await startTestApp(database());
      expect((await request(second.http).get('/health/ready')).status).toBe(200);
      await expectExactReads(second);
      await ingest(second, [
        { platform: 'x', trendKey: 'alpha', observedAt: recent(5), mentions: 2 },
      ]);
      await expectExactReads(second);
      await expectExactReads(t);

      await pair.replica.start();
      for (const app of [t, second]) {
        await replicaReady(app);
        const back = await reads(app);
        await expectExactReads(app);
        const used = delta(await reads(app), back);
        expect(used.primary).toBe(0);
        expect(used.replica).toBeGreaterThanOrEqual(3);
      }
    } finally {
      await second?.close();
      if (pair.replica.pid === null) await pair.replica.start();
    }
  });

  it('falls back to the primary within the call when the replica cancels a read (recovery conflict)', async () => {
    // Cancel conflicting standby queries at once instead of delaying replay.
    pair.replica.reconfigure(['max_standby_streaming_delay = 0']);
    let applied = false;
    for (let i = 0; i < 100 && !applied; i++) {
      const [row] = await pair.replica.query<{ v: string }>('SELECT current_setting($1) AS v', [
        'max_standby_streaming_delay',
      ]);
      applied = row.v === '0';
      if (!applied) await new Promise((r) => setTimeout(r, 50));
    }
    expect(applied).toBe(true);
    await pair.primary.query('CREATE TABLE conflict_probe (id int)', [], DB_NAME);
    await replicaReady(t);
    const router = t.app.get(ReadReplicasService);
    const before = await reads(t);
    const answer = router.read(
      { snapshot: true }, // one transaction, as top's reads
      async (db) => {
        await db.query('SELECT count(*) FROM conflict_probe'); // holds its lock until commit
        await db.query('SELECT pg_sleep(20)');
        return 'replica';
      },
      async () => 'primary',
    );
    // Once the replica runs the read, a DROP on the primary conflicts with it on replay.
    let running = false;
    for (let i = 0; i < 100 && !running; i++) {
      const rows = await pair.replica.query(
        `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(20)%' AND state = 'active'`,
      );
      running = rows.length > 0;
      if (!running) await new Promise((r) => setTimeout(r, 50));
    }
    expect(running).toBe(true);
    await pair.primary.query('DROP TABLE conflict_probe', [], DB_NAME);
    expect(await answer).toBe('primary');
    expect(delta(await reads(t), before).reasons).toEqual({ recovery_conflict: 1 });
  });

  it('gives up on a replica that hangs mid-read (frozen server): the primary answers, no error', async () => {
    await replicaReady(t);
    const router = t.app.get(ReadReplicasService);
    const before = await reads(t);
    let frozen = false;
    try {
      const answer = await router.read(
        { snapshot: true },
        async (db) => {
          await db.query('SELECT 1');
          await pair.replica.signalAll('SIGSTOP');
          frozen = true;
          await db.query('SELECT 2'); // never answered while frozen
          return 'replica';
        },
        async () => 'primary',
      );
      expect(frozen).toBe(true);
      expect(answer).toBe('primary');
      expect(delta(await reads(t), before).reasons).toEqual({ replica_error: 1 });
      expect(router.status()[0].up).toBe(false);
      // Meanwhile every endpoint answers exactly from the primary.
      await expectExactFromPrimary(t);
    } finally {
      await pair.replica.signalAll('SIGCONT');
    }
    await expectReplicaUsedAgain(t);
  });

  it('skips a replica lagging past DB_READ_MAX_LAG_MS (reason lagging) and reports its lag', async () => {
    // Max lag 0: any WAL received but not yet replayed counts as too much.
    const strict = await startTestApp(database({ DB_READ_MAX_LAG_MS: '0' }));
    try {
      await replicaReady(strict);
      const router = strict.app.get(ReadReplicasService);
      await withReplayPaused(async () => {
        await ingest(strict, [
          { platform: 'x', trendKey: 'gamma', observedAt: recent(8), mentions: 6 },
        ]);
        let lagging = false;
        for (let i = 0; i < 100 && !lagging; i++) {
          await router.checkAll(); // the replica must have received the WAL it cannot replay
          const [status] = router.status();
          lagging = status.up === true && !status.healthy && (status.lagSeconds ?? 0) > 0;
          if (!lagging) await new Promise((r) => setTimeout(r, 50));
        }
        expect(lagging).toBe(true);
        const { reasons } = await expectExactFromPrimary(strict);
        expect(reasons).toEqual({ lagging: 3 });
        const health = await request(strict.http).get('/health');
        expect(health.status).toBe(200);
        expect(health.body.details.readReplicas.replicas[0]).toMatchObject({
          up: true,
          usedForReads: false,
        });
        expect(health.body.details.readReplicas.replicas[0].lagSeconds).toBeGreaterThan(0);
      });
      await expectReplicaUsedAgain(strict);
    } finally {
      await strict.close();
    }
  });

  it('stays exact with the in-process cache (no Redis): the write position is kept in memory', async () => {
    const solo = await startTestApp(database({ REDIS_HOST: undefined, REDIS_PORT: undefined }));
    try {
      expect(solo.config.redis.host).toBeUndefined();
      await replicaReady(solo);
      await get(solo, '/api/v1/trends/top?window=24h'); // cached in memory
      await withReplayPaused(async () => {
        await ingest(solo, [
          { platform: 'x', trendKey: 'alpha', observedAt: recent(6), mentions: 11 },
        ]);
        const cached = await get(solo, '/api/v1/trends/top?window=24h');
        expect(mentionsOf(cached.body, 'alpha')).toBe(expected('alpha'));
        const { reasons } = await expectExactFromPrimary(solo);
        for (const reason of Object.keys(reasons))
          expect(['behind_write', 'lagging']).toContain(reason);
      });
      await expectReplicaUsedAgain(solo);
    } finally {
      await solo.close();
    }
  });

  it('stays exact across a Redis outage: primary while the write position is unknown, replica again after re-seeding', async () => {
    const redisServer = new ThrowawayRedis(await freePort());
    await redisServer.start();
    const app = await startTestApp(
      database({ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redisServer.port) }),
    );
    try {
      await expectReplicaUsedAgain(app);
      await redisServer.stop();
      await withReplayPaused(async () => {
        await ingest(app, [
          { platform: 'reddit', trendKey: 'beta', observedAt: recent(7), mentions: 9 },
        ]);
        const down = await expectExactFromPrimary(app);
        expect(Object.keys(down.reasons)).toEqual(['write_position_unknown']);
        // Redis is back while the replica is still behind: re-seeded, the primary answers.
        await redisServer.start();
        let connected = false;
        for (let i = 0; i < 100 && !connected; i++) {
          const res = await request(app.http).get('/health');
          connected = res.body.details?.redis?.status === 'up';
          if (!connected) await new Promise((r) => setTimeout(r, 100));
        }
        expect(connected).toBe(true);
        await expectExactFromPrimary(app);
      });
      await expectReplicaUsedAgain(app);
    } finally {
      await app.close();
      await redisServer.stop();
    }
  });
});
