import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer, tokenFor } from '../support/tokens';
import { monthName, monthStart } from '../support/retention';

const admin = { Authorization: `Bearer ${tokenFor(['admin'], 'ops-bob')}` };

interface IndexItem {
  table: string;
  index: string;
  sizeBytes: number;
  scans: number;
  bloatEstimate: number | null;
  valid: boolean;
  unused: boolean;
}

describe('index maintenance', () => {
  let db: TestDatabase;
  let t: TestApp;
  const leaf = monthName('trend_observations', monthStart(new Date()));
  const runTask = (task: string) =>
    request(t.http).post(`/api/v1/admin/maintenance/run?task=${task}`).set(admin);
  const indexes = async (): Promise<IndexItem[]> => {
    const res = await request(t.http).get('/api/v1/admin/maintenance/indexes').set(admin);
    expect(res.status).toBe(200);
    return res.body.items;
  };
  const isValid = async (name: string) =>
    (
      await db.query<{ v: boolean }>(
        `SELECT indisvalid AS v FROM pg_index WHERE indexrelid = to_regclass($1)`,
        [name],
      )
    )[0]?.v;

  beforeAll(async () => {
    db = await createTestDatabase('maintenance');
    t = await startTestApp(db, { INDEX_BLOAT_MIN_BYTES: '0', INDEX_BLOAT_THRESHOLD_PERCENT: '50' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('rebuilds an index left invalid by a failed CREATE INDEX CONCURRENTLY, cleaning up a failed attempt first', async () => {
    const at = monthStart(new Date()).toISOString();
    await db.query(
      `INSERT INTO ${leaf} (id, platform, region, trend_key, display_name, observed_at, mentions, engagement)
       SELECT nextval(pg_get_serial_sequence('trend_observations', 'id')), 'x', 'US', 'k' || g, 'k', $1, g % 3, 0
       FROM generate_series(1, 10) g`,
      [at],
    );
    await expect(
      db.query(`CREATE UNIQUE INDEX CONCURRENTLY idx_test_mentions ON ${leaf} (mentions)`),
    ).rejects.toThrow(/could not create unique index/);
    expect(await isValid('idx_test_mentions')).toBe(false);
    const listed = (await indexes()).find((i) => i.index === 'idx_test_mentions');
    expect(listed).toMatchObject({ table: leaf, valid: false, unused: false, bloatEstimate: null });

    // Still duplicates: the rebuild fails, is reported, and leaves no invalid _ccnew copy behind.
    const failed = await runTask('reindex');
    expect(failed.status).toBe(200);
    expect(failed.body.status).toBe('failed');
    expect(failed.body.error).toMatch(/reindex idx_test_mentions: could not create unique index/);
    expect(failed.body.details.droppedLeftovers).toEqual(['idx_test_mentions_ccnew']);
    const leftovers = await db.query(
      `SELECT relname FROM pg_class WHERE relname LIKE '%\\_ccnew%'`,
    );
    expect(leftovers).toEqual([]);

    await db.query(
      `DELETE FROM ${leaf} WHERE mentions IN (0, 1, 2) AND trend_key NOT IN ('k1', 'k2', 'k3')`,
    );
    const ok = await runTask('reindex');
    expect(ok.body.status).toBe('succeeded');
    expect(ok.body.result.reindexed).toEqual([
      { table: leaf, index: 'idx_test_mentions', reason: 'invalid' },
    ]);
    expect(await isValid('idx_test_mentions')).toBe(true);
    const [row] = await db.query<{ status: string; details: { reindexed: unknown[] } }>(
      `SELECT status, details FROM job_runs WHERE id = $1`,
      [ok.body.runId],
    );
    expect(row).toMatchObject({
      status: 'succeeded',
      details: { reindexed: ok.body.result.reindexed },
    });
  });

  it('rebuilds an index whose estimated bloat is over the threshold', async () => {
    await db.query(`CREATE TABLE maint_bloat (id int PRIMARY KEY, note text)`);
    await db.query(`INSERT INTO maint_bloat SELECT g, 'n' FROM generate_series(1, 50000) g`);
    await db.query(`DELETE FROM maint_bloat WHERE id % 20 <> 0`);
    await db.query(`VACUUM ANALYZE maint_bloat`);
    const before = (await indexes()).find((i) => i.index === 'maint_bloat_pkey')!;
    expect(before.bloatEstimate).toBeGreaterThan(0.5);

    const res = await runTask('reindex');
    expect(res.body.status).toBe('succeeded');
    const entry = res.body.result.reindexed.find(
      (r: { index: string }) => r.index === 'maint_bloat_pkey',
    );
    expect(entry.reason).toMatch(/^bloat estimate \d+%$/);
    const after = (await indexes()).find((i) => i.index === 'maint_bloat_pkey')!;
    expect(after.sizeBytes).toBeLessThan(before.sizeBytes / 4);
    expect(after.bloatEstimate ?? 0).toBeLessThan(0.5);
  });

  it('reports unused indexes without dropping them, never unique or primary ones', async () => {
    await db.query(`CREATE INDEX idx_test_unused ON ${leaf} (display_name)`);
    const items = await indexes();
    const unused = items.find((i) => i.index === 'idx_test_unused')!;
    expect(unused).toMatchObject({ table: leaf, scans: 0, valid: true, unused: true });
    const pk = await db.query<{ relname: string }>(
      `SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       WHERE x.indrelid = to_regclass($1) AND (x.indisprimary OR x.indisunique)`,
      [leaf],
    );
    expect(pk.length).toBeGreaterThan(0);
    for (const { relname } of pk)
      expect(items.find((i) => i.index === relname)?.unused).toBe(false);

    const res = await runTask('all');
    expect(res.body.status).toBe('succeeded');
    expect(res.body.result.unused.map((u: { index: string }) => u.index)).toContain(
      'idx_test_unused',
    );
    expect(await isValid('idx_test_unused')).toBe(true);
  });

  it('analyzes the partitions written since they were last analyzed', async () => {
    const next = monthName('trend_observations', monthStart(new Date(), 1));
    await db.query(
      `INSERT INTO ${next} (id, platform, region, trend_key, display_name, observed_at, mentions, engagement)
       SELECT nextval(pg_get_serial_sequence('trend_observations', 'id')), 'y', 'US', 'a' || g, 'a', $1, g, 0
       FROM generate_series(1, 50) g`,
      [monthStart(new Date(), 1).toISOString()],
    );
    // Statistics reach the shared counters asynchronously; wait (bounded) until they show.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [s] = await db.query<{ n: string }>(
        `SELECT n_mod_since_analyze AS n FROM pg_stat_user_tables WHERE relname = $1`,
        [next],
      );
      if (Number(s?.n ?? 0) >= 50 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const res = await runTask('analyze');
    expect(res.body.status).toBe('succeeded');
    expect(res.body.result.reindexed).toEqual([]);
    const analyzed = res.body.result.analyzed.find((a: { table: string }) => a.table === next);
    expect(analyzed.modified).toBeGreaterThanOrEqual(50);
    const [stat] = await db.query<{ last_analyze: Date | null }>(
      `SELECT last_analyze FROM pg_stat_user_tables WHERE relname = $1`,
      [next],
    );
    expect(stat.last_analyze).not.toBeNull();
  });

  it('validates the task, requires admin, and audits runs', async () => {
    const bad = await runTask('vacuum');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('task');
    expect((await request(t.http).get('/api/v1/admin/maintenance/indexes')).status).toBe(401);
    expect(
      (
        await request(t.http)
          .get('/api/v1/admin/maintenance/indexes')
          .set(bearer(['analyst']))
      ).status,
    ).toBe(403);
    expect(
      (
        await request(t.http)
          .post('/api/v1/admin/maintenance/run')
          .set(bearer(['ingest']))
      ).status,
    ).toBe(403);
    const audits = await db.query<{ actor: string; details: { task: string; status: string } }>(
      `SELECT actor, details FROM admin_audit_log WHERE action = 'maintenance.run' ORDER BY id`,
    );
    expect(audits.map((a) => [a.actor, a.details.task, a.details.status])).toEqual([
      ['ops-bob', 'reindex', 'failed'],
      ['ops-bob', 'reindex', 'succeeded'],
      ['ops-bob', 'reindex', 'succeeded'],
      ['ops-bob', 'all', 'succeeded'],
      ['ops-bob', 'analyze', 'succeeded'],
    ]);
  });
});
