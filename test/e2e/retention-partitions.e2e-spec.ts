import { Client } from 'pg';
import request from 'supertest';
import { PARTITIONED_TABLES, createPartition, partitionFor } from '../../src/database/partitions';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';
import {
  inherits,
  insertDefaultObservations,
  insertDefaultRollups,
  monthName,
  monthStart,
  tableSum,
  yearName,
  yearStart,
} from '../support/retention';

const admin = bearer(['admin']);
const HOUR = 3_600_000;

describe('partition job: premake and relocation', () => {
  let db: TestDatabase;
  let t: TestApp;
  const run = async () => {
    const res = await request(t.http).post('/api/v1/admin/retention/run?dryRun=false').set(admin);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    return res.body as {
      runId: string;
      result: {
        created: string[];
        relocated: { partition: string; rows: number }[];
        relocatedRows: number;
      };
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase('retention_partitions');
    t = await startTestApp(db, { PARTITION_PREMAKE: '3' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('premakes the current and 3 periods ahead for every table, and a second run creates nothing', async () => {
    const now = new Date();
    const monthly = ['trend_observations', 'trend_rollups_hourly'];
    // Start-up made them; remove the two furthest so the job has something to do.
    const removed = [
      ...monthly.flatMap((table) => [
        monthName(table, monthStart(now, 2)),
        monthName(table, monthStart(now, 3)),
      ]),
      yearName('trend_rollups_daily', yearStart(now, 3)),
    ];
    for (const name of removed) await db.query(`DROP TABLE ${name}`);

    const first = await run();
    expect([...first.result.created].sort()).toEqual([...removed].sort());

    const expected = [
      ...monthly.flatMap((table) =>
        [0, 1, 2, 3].map((i) => `${table}/${monthName(table, monthStart(now, i))}`),
      ),
      ...[0, 1, 2, 3].map(
        (i) => `trend_rollups_daily/${yearName('trend_rollups_daily', yearStart(now, i))}`,
      ),
    ];
    const pairs = await inherits(db);
    for (const pair of expected) expect(pairs).toContain(pair);

    const second = await run();
    expect(second.result.created).toEqual([]);
    expect(second.result.relocatedRows).toBe(0);

    // The listing shows the same partitions with parsed bounds.
    const list = await request(t.http).get('/api/v1/admin/retention/partitions').set(admin);
    expect(list.status).toBe(200);
    const current = list.body.items.find(
      (p: { partition: string }) =>
        p.partition === monthName('trend_observations', monthStart(now)),
    );
    expect(current).toMatchObject({
      table: 'trend_observations',
      from: monthStart(now).toISOString(),
      to: monthStart(now, 1).toISOString(),
      isDefault: false,
    });
    expect(typeof current.bytes).toBe('number');
    const defaults = list.body.items.filter((p: { isDefault: boolean }) => p.isDefault);
    expect(
      defaults.map((p: { partition: string; from: unknown }) => [p.partition, p.from]).sort(),
    ).toEqual([
      ['trend_observations_default', null],
      ['trend_rollups_daily_default', null],
      ['trend_rollups_hourly_default', null],
    ]);
  });

  it('moves rows stuck in DEFAULT partitions into new proper partitions without losing any', async () => {
    const now = new Date();
    const m8 = monthStart(now, 8);
    const m9 = monthStart(now, 9);
    const y2 = yearStart(now, 2 + 3); // beyond the premade years
    const observations = [
      ...Array.from({ length: 40 }, (_, i) => ({
        at: new Date(m8.getTime() + i * HOUR),
        key: `a${i % 7}`,
        mentions: i + 1,
      })),
      ...Array.from({ length: 25 }, (_, i) => ({
        at: new Date(m9.getTime() + i * HOUR),
        key: `b${i % 5}`,
        mentions: 100 + i,
      })),
    ];
    await insertDefaultObservations(db, observations);
    await insertDefaultRollups(
      db,
      'trend_rollups_hourly',
      Array.from({ length: 30 }, (_, i) => ({
        bucket: new Date(m8.getTime() + i * HOUR),
        key: `h${i}`,
        mentions: 3 * i + 1,
      })),
    );
    await insertDefaultRollups(
      db,
      'trend_rollups_daily',
      Array.from({ length: 12 }, (_, i) => ({
        bucket: new Date(y2.getTime() + i * 24 * HOUR),
        key: `d${i}`,
        mentions: 7 * i + 2,
      })),
    );
    const before = {
      obs: await tableSum(db, 'trend_observations'),
      hourly: await tableSum(db, 'trend_rollups_hourly'),
      daily: await tableSum(db, 'trend_rollups_daily'),
    };

    const plan = await request(t.http).post('/api/v1/admin/retention/run?dryRun=true').set(admin);
    expect(plan.status).toBe(200);
    expect(
      plan.body.plan.relocate
        .map((r: { partition: string; rows: number }) => [r.partition, r.rows])
        .sort(),
    ).toEqual(
      [
        [monthName('trend_observations', m8), 40],
        [monthName('trend_observations', m9), 25],
        [monthName('trend_rollups_hourly', m8), 30],
        [yearName('trend_rollups_daily', y2), 12],
      ].sort(),
    );

    const { result } = await run();
    expect(result.relocatedRows).toBe(40 + 25 + 30 + 12);
    expect(result.relocated.map((r) => [r.partition, r.rows]).sort()).toEqual(
      plan.body.plan.relocate
        .map((r: { partition: string; rows: number }) => [r.partition, r.rows])
        .sort(),
    );

    for (const table of ['trend_observations', 'trend_rollups_hourly', 'trend_rollups_daily']) {
      expect(await tableSum(db, `${table}_default`)).toEqual({ n: 0, s: 0 });
    }
    expect(await tableSum(db, 'trend_observations')).toEqual(before.obs);
    expect(await tableSum(db, 'trend_rollups_hourly')).toEqual(before.hourly);
    expect(await tableSum(db, 'trend_rollups_daily')).toEqual(before.daily);

    const placement = await db.query<{ part: string; n: string; s: string }>(
      `SELECT tableoid::regclass::text AS part, count(*) AS n, sum(mentions) AS s FROM trend_observations
       WHERE observed_at >= $1 GROUP BY 1 ORDER BY 1`,
      [m8.toISOString()],
    );
    expect(placement.map((p) => [p.part, Number(p.n), Number(p.s)])).toEqual([
      [monthName('trend_observations', m8), 40, (40 * 41) / 2],
      [monthName('trend_observations', m9), 25, 25 * 100 + (24 * 25) / 2],
    ]);
    const daily = await db.query<{ part: string }>(
      `SELECT DISTINCT tableoid::regclass::text AS part FROM trend_rollups_daily WHERE bucket >= $1`,
      [y2.toISOString()],
    );
    expect(daily).toEqual([{ part: yearName('trend_rollups_daily', y2) }]);

    // The new partitions are real partitions: the dedup key still holds across them.
    const dup = await request(t.http).post('/api/v1/admin/retention/run?dryRun=true').set(admin);
    expect(dup.body.plan.relocate).toEqual([]);
    expect(dup.body.plan.create).toEqual([]);
    await expect(
      db.query(
        `INSERT INTO trend_observations (platform, region, trend_key, display_name, observed_at, mentions)
         VALUES ('x', 'US', 'a0', 'a0', $1, 1)`,
        [m8.toISOString()],
      ),
    ).rejects.toThrow(/uq_trend_observations_dedup|duplicate key/);
  });
});

describe('creating a partition while rows for its range keep arriving', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('retention_partition_race');
    await (await startTestApp(db)).close(); // migrations
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a write into DEFAULT between the move and ATTACH waits for the lock, then ATTACH succeeds', async () => {
    const spec = PARTITIONED_TABLES.find((p) => p.table === 'trend_rollups_hourly')!;
    const month = new Date(Date.UTC(2020, 0, 1)); // no partition: rows route to DEFAULT
    const range = partitionFor(spec, month);
    const row = (key: string, hour: number) =>
      insertDefaultRollups(
        db,
        'trend_rollups_hourly',
        [{ bucket: new Date(month.getTime() + hour * HOUR), key, mentions: hour }],
        'parent',
      );
    await row('before', 5);

    const mover: Client = await db.connect();
    let late: Promise<string> | undefined;
    let lateSettled = false;
    try {
      await mover.query('BEGIN');
      await mover.query("SET LOCAL lock_timeout = '10s'");
      // Right after the move, another session writes a row of the same range through the parent.
      const db2 = {
        query: async (sql: string, params?: unknown[]) => {
          const { rows } = await mover.query(sql, params);
          if (sql.trimStart().startsWith('WITH moved AS')) {
            late = row('late', 9).then(
              () => 'inserted',
              (e: { code?: string }) => `error ${e.code}`,
            );
            void late.finally(() => (lateSettled = true));
            await waitUntil(async () => lateSettled || (await blockedBy(db, mover)));
          }
          return rows;
        },
      };
      expect(await createPartition(db2, spec, range)).toBe(1);
      await mover.query('COMMIT');
    } finally {
      await mover.query('ROLLBACK').catch(() => undefined);
      await mover.end();
    }
    // The late write waited for the lock, then PostgreSQL re-checked DEFAULT's new constraint.
    expect(await late).toBe('error 23514');
    expect(await inherits(db)).toContain(`trend_rollups_hourly/${range.name}`);
    expect(await tableSum(db, range.name)).toEqual({ n: 1, s: 5 });
    expect(await tableSum(db, 'trend_rollups_hourly_default')).toEqual({ n: 0, s: 0 });
    // Written again now, the row goes to the new partition.
    await row('late', 9);
    expect(await tableSum(db, range.name)).toEqual({ n: 2, s: 14 });
  });
});

describe('relocation when DEFAULT is busy', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('retention_relocate_lock');
    t = await startTestApp(db, { RETENTION_LOCK_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('fails within lock_timeout with a clear reason while a writer holds DEFAULT, and relocates next run', async () => {
    const month = monthStart(new Date(), 10); // past the premade ones, inside every policy
    const name = monthName('trend_rollups_hourly', month);
    await insertDefaultRollups(db, 'trend_rollups_hourly', [
      { bucket: new Date(month.getTime() + HOUR), key: 'k', mentions: 4 },
    ]);
    const runNow = async () => {
      const res = await request(t.http).post('/api/v1/admin/retention/run').set(admin);
      expect(res.status).toBe(200);
      return res.body as { status: string; error: string | null; details?: unknown };
    };

    const writer: Client = await db.connect();
    try {
      // An ingest transaction that has written into DEFAULT and not yet committed.
      await writer.query('BEGIN');
      await writer.query('LOCK TABLE trend_rollups_hourly_default IN ROW EXCLUSIVE MODE');
      const failed = await runNow();
      expect(failed.status).toBe('failed');
      expect(failed.error).toBe(
        `relocate ${name}: could not lock trend_rollups_hourly (or its DEFAULT partition) within ` +
          'lock_timeout 300 ms: another transaction holds it; retried on the next run',
      );
      expect(await inherits(db)).not.toContain(`trend_rollups_hourly/${name}`);
      expect(await tableSum(db, 'trend_rollups_hourly_default')).toEqual({ n: 1, s: 4 });
    } finally {
      await writer.query('ROLLBACK');
      await writer.end();
    }

    const next = await runNow();
    expect(next.status).toBe('succeeded');
    expect(await inherits(db)).toContain(`trend_rollups_hourly/${name}`);
    expect(await tableSum(db, name)).toEqual({ n: 1, s: 4 });
  });
});

describe('partition gauges', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('retention_gauges');
    t = await startTestApp(db, { PARTITION_PREMAKE: '3' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const gauges = async (table: string) => {
    const res = await request(t.http).get('/metrics');
    const value = (name: string) => {
      const line = res.text.split('\n').find((l) => l.startsWith(`${name}{table="${table}"} `));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    return {
      count: value('partitions_count'),
      premadeAhead: value('partitions_premade_ahead'),
      defaultRows: value('default_partition_rows'),
    };
  };
  const runJob = async () => {
    const res = await request(t.http).post('/api/v1/admin/retention/run').set(admin);
    expect(res.body.status).toBe('succeeded');
  };

  it('count every partition starting after the current period, and the job refreshes them at once', async () => {
    const now = new Date();
    // A stray row 8 months ahead: relocation makes that partition, leaving a gap after +3.
    await insertDefaultObservations(db, [
      { at: new Date(monthStart(now, 8).getTime() + HOUR), key: 'a', mentions: 1 },
    ]);
    await runJob();
    // Start-up made the current month and 3 ahead; relocation added +8.
    expect(await gauges('trend_observations')).toEqual({
      count: 5,
      premadeAhead: 4,
      defaultRows: 0,
    });
    expect(await gauges('trend_rollups_daily')).toEqual({
      count: 4,
      premadeAhead: 3,
      defaultRows: 0,
    });

    // Within the scrape cache's 15 s: only the job's own refresh can show the new partition.
    await insertDefaultObservations(db, [
      { at: new Date(monthStart(now, 10).getTime() + HOUR), key: 'b', mentions: 1 },
    ]);
    await runJob();
    expect(await gauges('trend_observations')).toEqual({
      count: 6,
      premadeAhead: 5,
      defaultRows: 0,
    });
  });
});

/** True once some session is waiting for a lock `holder` holds. */
async function blockedBy(db: TestDatabase, holder: Client): Promise<boolean> {
  const pid = (holder as unknown as { processID: number }).processID;
  const rows = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
    [pid],
  );
  return Number(rows[0].n) > 0;
}

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}
