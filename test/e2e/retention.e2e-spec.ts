import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Client } from 'pg';
import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { tokenFor } from '../support/tokens';
import {
  inherits,
  insertDefaultObservations,
  insertDefaultRollups,
  monthName,
  monthStart,
  tableSum,
  totals,
} from '../support/retention';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const admin = { Authorization: `Bearer ${tokenFor(['admin'], 'ops-alice')}` };

describe('retention policies, drops, archive, ingest bound', () => {
  let db: TestDatabase;
  let t: TestApp;
  const setPolicy = (table: string, body: Record<string, unknown>) =>
    request(t.http).put(`/api/v1/admin/retention/policies/${table}`).set(admin).send(body);
  const runNow = async () => {
    const res = await request(t.http).post('/api/v1/admin/retention/run').set(admin);
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    db = await createTestDatabase('retention');
    t = await startTestApp(db, { RETENTION_ARCHIVE: 'true', RETENTION_LOCK_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('lists the default policies', async () => {
    const res = await request(t.http).get('/api/v1/admin/retention/policies').set(admin);
    expect(res.status).toBe(200);
    expect(
      res.body.items.map((p: { table: string; keepDays: number; enabled: boolean }) => [
        p.table,
        p.keepDays,
        p.enabled,
      ]),
    ).toEqual([
      ['admin_audit_log', 365, true],
      ['job_runs', 365, true],
      ['trend_observations', 90, true],
      ['trend_rollups_daily', 1825, true],
      ['trend_rollups_hourly', 400, true],
    ]);
  });

  it('rejects unknown tables (404), bad keepDays (400), and non-admins (401/403)', async () => {
    expect((await setPolicy('nope', { keepDays: 10 })).status).toBe(404);
    const zero = await setPolicy('job_runs', { keepDays: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.errors[0].field).toBe('keepDays');
    expect((await setPolicy('job_runs', { keepDays: 1.5 })).status).toBe(400);
    expect(
      (await setPolicy('job_runs', { keepDays: 10, enabled: 'yes' })).body.errors[0].field,
    ).toBe('enabled');
    expect(
      (
        await request(t.http)
          .put('/api/v1/admin/retention/policies/job_runs')
          .send({ keepDays: 10 })
      ).status,
    ).toBe(401);
    const analyst = { Authorization: `Bearer ${tokenFor(['analyst'])}` };
    expect(
      (await request(t.http).get('/api/v1/admin/retention/policies').set(analyst)).status,
    ).toBe(403);
    expect((await request(t.http).post('/api/v1/admin/retention/run').set(analyst)).status).toBe(
      403,
    );
    expect(
      (await request(t.http).get('/api/v1/admin/retention/partitions').set(analyst)).status,
    ).toBe(403);
    const [row] = await db.query<{ keep_days: number }>(
      `SELECT keep_days FROM retention_policies WHERE table_name = 'job_runs'`,
    );
    expect(row.keep_days).toBe(365);
  });

  it('audits a policy change with the token subject, and ingest follows the raw window at once', async () => {
    const res = await setPolicy('trend_observations', { keepDays: 30 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      table: 'trend_observations',
      keepDays: 30,
      enabled: true,
      updatedBy: 'ops-alice',
    });
    const audit = await db.query<{
      actor: string;
      target: string;
      details: { before: unknown; after: unknown };
    }>(
      `SELECT actor, target, details FROM admin_audit_log WHERE action = 'retention.policy.update' ORDER BY id`,
    );
    expect(audit).toEqual([
      {
        actor: 'ops-alice',
        target: 'trend_observations',
        details: {
          before: { keepDays: 90, enabled: true },
          after: { keepDays: 30, enabled: true },
        },
      },
    ]);

    const ingest = (at: Date) =>
      request(t.http)
        .post('/api/v1/trends/observations')
        .set({ Authorization: `Bearer ${tokenFor(['ingest'])}` })
        .send({
          observations: [
            { platform: 'x', trendKey: 'bound', observedAt: at.toISOString(), mentions: 1 },
          ],
        });
    const old = await ingest(new Date(Date.now() - 40 * DAY));
    expect(old.status).toBe(400);
    expect(old.body.errors[0].field).toBe('observedAt');
    expect((await ingest(new Date(Date.now() - 20 * DAY))).status).toBe(201);

    // enabled alone can be switched back; keepDays stays required.
    expect((await setPolicy('trend_observations', { enabled: false })).status).toBe(400);
    expect((await setPolicy('trend_observations', { keepDays: 3650, enabled: true })).status).toBe(
      200,
    );
    expect((await ingest(new Date(Date.now() - 40 * DAY))).status).toBe(201);
  });

  it('drops raw partitions wholly older than the policy, archives them, keeps the boundary; dry run changes nothing; rollups untouched', async () => {
    const keepDays = 100;
    const cutoff = new Date(Date.now() - keepDays * DAY);
    const boundary = monthStart(cutoff);
    const old = [-3, -2, -1].map((i) => monthStart(cutoff, i));
    const newer = monthStart(cutoff, 1);
    const beforeCutoff = new Date(Math.max(boundary.getTime(), cutoff.getTime() - 10 * 60_000));
    const rows = [
      ...old.flatMap((m, j) =>
        Array.from({ length: 5 + j }, (_, i) => ({
          at: new Date(m.getTime() + i * HOUR),
          key: `old${j}`,
          mentions: 10 * j + i + 1,
        })),
      ),
      { at: beforeCutoff, key: 'edge-before', mentions: 1000 },
      { at: new Date(cutoff.getTime() + HOUR), key: 'edge-after', mentions: 2000 },
      { at: new Date(newer.getTime() + HOUR), key: 'newer', mentions: 3000 },
    ];
    await insertDefaultObservations(db, rows);
    // Rollups of the same period, as ingest would have written them.
    await insertDefaultRollups(
      db,
      'trend_rollups_hourly',
      rows.map((r, i) => ({
        bucket: new Date(Math.floor(r.at.getTime() / HOUR) * HOUR),
        key: `r${i}`,
        mentions: r.mentions,
      })),
      'parent',
    );
    await insertDefaultRollups(
      db,
      'trend_rollups_daily',
      rows.map((r, i) => ({
        bucket: new Date(Math.floor(r.at.getTime() / DAY) * DAY),
        key: `r${i}`,
        mentions: r.mentions,
      })),
      'parent',
    );

    // With the long policy set above, a run only relocates.
    const relocate = await runNow();
    expect(relocate.status).toBe('succeeded');
    expect(relocate.result.dropped).toEqual([]);
    const expectedDrops = old.map((m) => monthName('trend_observations', m));
    const oldRows = new Map<string, { n: number; s: number }>();
    for (const name of expectedDrops) oldRows.set(name, await tableSum(db, name));

    expect((await setPolicy('trend_observations', { keepDays })).status).toBe(200);
    const rollupsBefore = {
      hourly: await tableSum(db, 'trend_rollups_hourly'),
      daily: await tableSum(db, 'trend_rollups_daily'),
    };

    // Dry run: the plan names the drops, and neither partitions nor rows change.
    const pairsBefore = await inherits(db);
    const totalsBefore = await totals(db);
    const runsBefore = await db.query<{ n: string }>(`SELECT count(*) AS n FROM job_runs`);
    const dry = await request(t.http).post('/api/v1/admin/retention/run?dryRun=true').set(admin);
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    const plannedObs = dry.body.plan.drop.filter(
      (d: { table: string }) => d.table === 'trend_observations',
    );
    expect(plannedObs.map((d: { partition: string }) => d.partition)).toEqual(expectedDrops);
    expect(dry.body.plan.archive).toBe(true);
    expect(await inherits(db)).toEqual(pairsBefore);
    expect(await totals(db)).toEqual(totalsBefore);
    expect(await db.query(`SELECT count(*) AS n FROM job_runs`)).toEqual(runsBefore);

    const res = await runNow();
    expect(res.status).toBe('succeeded');
    expect(res.result.dropped.map((d: { partition: string }) => d.partition)).toEqual(
      expectedDrops,
    );
    const pairs = await inherits(db);
    for (const name of expectedDrops) {
      expect(pairs).not.toContain(`trend_observations/${name}`);
      expect(
        (await db.query<{ r: string | null }>(`SELECT to_regclass($1)::text AS r`, [name]))[0].r,
      ).toBeNull();
    }
    // The partition holding the cutoff stays, with its rows on both sides of it.
    expect(pairs).toContain(`trend_observations/${monthName('trend_observations', boundary)}`);
    const edge = await db.query<{ trend_key: string }>(
      `SELECT trend_key FROM trend_observations WHERE trend_key LIKE 'edge-%' OR trend_key = 'newer' ORDER BY 1`,
    );
    expect(edge.map((e) => e.trend_key)).toEqual(['edge-after', 'edge-before', 'newer']);
    // Rollups are never recomputed from raw rows.
    expect(await tableSum(db, 'trend_rollups_hourly')).toEqual(rollupsBefore.hourly);
    expect(await tableSum(db, 'trend_rollups_daily')).toEqual(rollupsBefore.daily);

    // Each dropped partition was archived first: file present, sha256 and rows as recorded.
    expect(res.result.archived.map((a: { partition: string }) => a.partition)).toEqual(
      expectedDrops,
    );
    for (const archived of res.result.archived as {
      partition: string;
      file: string;
      rows: number;
      sha256: string;
      bytes: number;
    }[]) {
      const bytes = readFileSync(join(t.config.backup.dir, 'archive', archived.file));
      expect(archived.bytes).toBe(bytes.length);
      expect(archived.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      const lines = gunzipSync(bytes).toString('utf8').trimEnd().split('\n');
      expect(lines[0]).toMatch(/^id,platform,region,trend_key,/);
      expect(lines.length - 1).toBe(oldRows.get(archived.partition)!.n);
      expect(archived.rows).toBe(oldRows.get(archived.partition)!.n);
    }
    // The run's details in job_runs carry the same record.
    const [run] = await db.query<{ details: { archived: { sha256: string }[] } }>(
      `SELECT details FROM job_runs WHERE id = $1`,
      [res.runId],
    );
    expect(run.details.archived.map((a) => a.sha256)).toEqual(
      res.result.archived.map((a: { sha256: string }) => a.sha256),
    );

    // Both runs and the dry run are audited.
    const audits = await db.query<{ actor: string; details: { dryRun: boolean } }>(
      `SELECT actor, details FROM admin_audit_log WHERE action = 'retention.run' ORDER BY id`,
    );
    expect(audits.map((a) => [a.actor, a.details.dryRun])).toEqual([
      ['ops-alice', false],
      ['ops-alice', true],
      ['ops-alice', false],
    ]);
  });

  it('fails fast with a clear reason when DETACH cannot get its lock, leaves nothing half-done, and succeeds next run', async () => {
    const cutoff = new Date(Date.now() - 100 * DAY);
    const month = monthStart(cutoff, -5);
    const name = monthName('trend_observations', month);
    await insertDefaultObservations(db, [
      { at: new Date(month.getTime() + HOUR), key: 'blocked1', mentions: 5 },
      { at: new Date(month.getTime() + 2 * HOUR), key: 'blocked2', mentions: 6 },
    ]);

    const holder: Client = await db.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE ONLY trend_observations IN ACCESS SHARE MODE');
      // The lock_timeout path: the run fails (saying so) while the lock is still held.
      const failed = await runNow();
      expect(failed.status).toBe('failed');
      expect(failed.error).toContain(name);
      expect(failed.error).toMatch(
        /could not lock trend_observations .*within lock_timeout 300 ms: .*retried on the next run/,
      );
      const [row] = await db.query<{
        status: string;
        error: string;
        details: { relocated: { partition: string }[] };
      }>(`SELECT status, error, details FROM job_runs WHERE id = $1`, [failed.runId]);
      expect(row.status).toBe('failed');
      expect(row.error).toBe(failed.error);
      // What had been done is recorded; the partition is still attached with its rows.
      expect(row.details.relocated.map((r) => r.partition)).toEqual([name]);
      expect(failed.details).toEqual(row.details);
      expect(await inherits(db)).toContain(`trend_observations/${name}`);
      expect(await tableSum(db, name)).toEqual({ n: 2, s: 11 });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }

    const next = await runNow();
    expect(next.status).toBe('succeeded');
    expect(next.result.dropped.map((d: { partition: string }) => d.partition)).toEqual([name]);
    expect(await inherits(db)).not.toContain(`trend_observations/${name}`);
  });

  it('trims job_runs and admin_audit_log in batches, and the catalogue only past the longest data policy', async () => {
    const DAY_AGO = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    await db.query(
      `INSERT INTO job_runs (job, trigger, status, started_at, finished_at)
       SELECT 'partitions', 'cron', 'succeeded', $1::timestamptz, $1::timestamptz FROM generate_series(1, 2500)`,
      [DAY_AGO(400)],
    );
    await db.query(
      `INSERT INTO admin_audit_log (actor, action, target, at)
       SELECT 'old', 'retention.run', 'partitions', $1::timestamptz FROM generate_series(1, 30)`,
      [DAY_AGO(366)],
    );
    // Policies now: raw 100 days, hourly 400, daily 1825: the catalogue keeps 1825 days.
    await db.query(
      `INSERT INTO trend_catalog (trend_key, display_name, first_seen_at, last_seen_at) VALUES
         ('gone', 'gone', $1, $1), ('kept-by-daily', 'kept', $2, $2)`,
      [DAY_AGO(1900), DAY_AGO(1000)],
    );
    const recentRuns =
      Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM job_runs`))[0].n) - 2500;

    const dry = await request(t.http).post('/api/v1/admin/retention/run?dryRun=true').set(admin);
    expect(dry.body.plan.trim).toEqual([
      { table: 'job_runs', before: expect.any(String), rows: 2500 },
      { table: 'admin_audit_log', before: expect.any(String), rows: 30 },
    ]);
    expect(dry.body.plan.catalog.rows).toBe(1);

    const res = await runNow();
    expect(res.status).toBe('succeeded');
    expect(res.result.trimmed).toEqual([
      { table: 'job_runs', rows: 2500 },
      { table: 'admin_audit_log', rows: 30 },
    ]);
    expect(res.result.catalogTrimmed).toBe(1);
    // The run's own row and the newer ones stay.
    const [runs] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM job_runs`);
    expect(Number(runs.n)).toBe(recentRuns + 1);
    expect(
      await db.query(`SELECT count(*)::int AS n FROM admin_audit_log WHERE actor = 'old'`),
    ).toEqual([{ n: 0 }]);
    const catalog = await db.query<{ trend_key: string }>(
      `SELECT trend_key FROM trend_catalog WHERE trend_key IN ('gone', 'kept-by-daily')`,
    );
    expect(catalog).toEqual([{ trend_key: 'kept-by-daily' }]);
  });
});
