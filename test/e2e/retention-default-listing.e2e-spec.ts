import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';
import { insertDefaultObservations, insertDefaultRollups, yearStart } from '../support/retention';

const HOUR = 3_600_000;

interface Item {
  table: string;
  partition: string;
  from: string | null;
  to: string | null;
  isDefault: boolean;
  rows: number | null;
  estimatedRows: number;
  bytes: number;
}

/**
 * GET /api/v1/admin/retention/partitions lists the DEFAULT partitions with their exact row
 * counts, so rows stuck there are visible (issue 10 item 9).
 */
describe('partition listing shows DEFAULT partitions', () => {
  let db: TestDatabase;
  let t: TestApp;
  const list = async (): Promise<Item[]> => {
    const res = await request(t.http)
      .get('/api/v1/admin/retention/partitions')
      .set(bearer(['admin']));
    expect(res.status).toBe(200);
    return res.body.items as Item[];
  };

  beforeAll(async () => {
    db = await createTestDatabase('retention_default_list');
    t = await startTestApp(db, { DB_MAX_CONNECTIONS: '2' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('one DEFAULT per table, range null, rows 0 while empty', async () => {
    const defaults = (await list()).filter((p) => p.isDefault);
    expect(defaults.map((p) => p.partition).sort()).toEqual([
      'trend_observations_default',
      'trend_rollups_daily_default',
      'trend_rollups_hourly_default',
    ]);
    for (const p of defaults) {
      expect(p).toMatchObject({ from: null, to: null, rows: 0, table: expect.any(String) });
      expect(p.partition).toBe(`${p.table}_default`);
      expect(p.bytes).toBeGreaterThan(0); // its indexes exist even when empty
    }
    // Range partitions keep their bounds and carry no exact count.
    const ranged = (await list()).filter((p) => !p.isDefault);
    expect(ranged.length).toBeGreaterThan(0);
    for (const p of ranged) {
      expect(p.rows).toBeNull();
      expect(typeof p.from).toBe('string');
    }
  });

  it('counts rows stuck in DEFAULT partitions exactly (before any ANALYZE)', async () => {
    const far = yearStart(new Date(), 8); // beyond every premade partition
    await insertDefaultObservations(
      db,
      Array.from({ length: 37 }, (_, i) => ({
        at: new Date(far.getTime() + i * HOUR),
        key: `k${i}`,
        mentions: 1,
      })),
    );
    await insertDefaultRollups(
      db,
      'trend_rollups_daily',
      Array.from({ length: 5 }, (_, i) => ({
        bucket: new Date(far.getTime() + i * 24 * HOUR),
        key: `d${i}`,
        mentions: 2,
      })),
    );
    const counted = await db.query<{ part: string; n: string }>(
      `SELECT tableoid::regclass::text AS part, count(*) AS n FROM trend_observations GROUP BY 1
       UNION ALL
       SELECT tableoid::regclass::text, count(*) FROM trend_rollups_daily GROUP BY 1`,
    );
    const expected = Object.fromEntries(counted.map((r) => [r.part, Number(r.n)]));
    expect(expected.trend_observations_default).toBe(37);

    const defaults = Object.fromEntries(
      (await list()).filter((p) => p.isDefault).map((p) => [p.partition, p.rows]),
    );
    expect(defaults).toEqual({
      trend_observations_default: expected.trend_observations_default,
      trend_rollups_daily_default: expected.trend_rollups_daily_default,
      trend_rollups_hourly_default: 0,
    });
  });
});
