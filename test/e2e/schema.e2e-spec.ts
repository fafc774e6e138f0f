import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { freePort } from '../../src/common/free-port';
import request from 'supertest';
import { PARTITIONED_TABLES, wantedPartitions } from '../../src/database/partitions';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET } from '../support/tokens';

const run = promisify(execFile);

/** Runs an npm script of this repo the way a developer types it, against the test database. */
async function npmScript(db: TestDatabase, args: string[], extraEnv: Record<string, string> = {}) {
  try {
    const { stdout } = await run('npm', ['run', '-s', ...args], {
      env: {
        ...process.env,
        ...db.env,
        TS_NODE_TRANSPILE_ONLY: '1',
        NODE_ENV: 'test',
        ...extraEnv,
      },
      timeout: 60_000,
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout + e.stderr };
  }
}

describe('schema, migrations and CLIs', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('schema');
    t = await startTestApp(db); // runs the migrations at start-up
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('creates partitioned tables with a DEFAULT partition and the current + 3 periods', async () => {
    for (const spec of PARTITIONED_TABLES) {
      const rows = await db.query<{ name: string; bound: string }>(
        `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = $1::regclass`,
        [spec.table],
      );
      const names = rows.map((r) => r.name);
      expect(rows.find((r) => r.bound === 'DEFAULT')?.name).toBe(`${spec.table}_default`);
      for (const wanted of wantedPartitions(spec, new Date(), 3))
        expect(names).toContain(wanted.name);
    }
    const [kind] = await db.query<{ relkind: string }>(
      `SELECT relkind FROM pg_class WHERE relname = 'trend_observations'`,
    );
    expect(kind.relkind).toBe('p');
  });

  it('seeds the retention policies with the SPEC defaults', async () => {
    const rows = await db.query<{ table_name: string; keep_days: number }>(
      'SELECT table_name, keep_days FROM retention_policies ORDER BY table_name',
    );
    expect(Object.fromEntries(rows.map((r) => [r.table_name, r.keep_days]))).toEqual({
      admin_audit_log: 365,
      job_runs: 365,
      trend_observations: 90,
      trend_rollups_daily: 1825,
      trend_rollups_hourly: 400,
    });
  });

  it('migration:show lists every migration as applied', async () => {
    const { code, stdout } = await npmScript(db, ['migration:show']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\[X\] \d+ CreateSchema/);
    expect(stdout).not.toMatch(/\[ \]/);
  });

  it('entities and migrations agree (migration:check finds no drift), and the check does catch drift', async () => {
    const clean = await npmScript(db, ['migration:check']);
    expect(clean.stdout).toMatch(/No changes in database schema/);
    expect(clean.code).toBe(0);

    await db.query('ALTER TABLE job_runs ADD COLUMN drift_probe integer');
    try {
      const drifted = await npmScript(db, ['migration:check']);
      expect(drifted.code).not.toBe(0);
    } finally {
      await db.query('ALTER TABLE job_runs DROP COLUMN drift_probe');
    }
  });

  it('npm run token mints a token the service accepts, with the requested roles', async () => {
    const env = { JWT_SECRET: TEST_JWT_SECRET };
    const { code, stdout } = await npmScript(
      db,
      ['token', '--', '--sub', 'cli-user', '--role', 'analyst', '--ttl', '5m'],
      env,
    );
    expect(code).toBe(0);
    const token = stdout.trim();
    expect(
      (await request(t.http).get('/api/v1/trends/top').set('Authorization', `Bearer ${token}`))
        .status,
    ).toBe(200);
    expect(
      (await request(t.http).get('/api/v1/admin/jobs').set('Authorization', `Bearer ${token}`))
        .status,
    ).toBe(403);
    const bad = await npmScript(db, ['token', '--', '--sub', 'x', '--role', 'superuser'], env);
    expect(bad.code).not.toBe(0);
  });

  it('npm run db:seed loads the demo data set through the ingest path', async () => {
    const { code, stdout } = await npmScript(db, ['db:seed', '--', '--days', '1']);
    expect(code).toBe(0);
    const loaded = Number(/loaded (\d+) observations/.exec(stdout)?.[1]);
    const [raw] = await db.query<{ n: string; m: string }>(
      `SELECT count(*) AS n, sum(mentions) AS m FROM trend_observations`,
    );
    const [daily] = await db.query<{ m: string }>(
      'SELECT sum(mentions) AS m FROM trend_rollups_daily',
    );
    expect(loaded).toBeGreaterThan(1000);
    expect(Number(raw.n)).toBe(loaded);
    expect(daily.m).toBe(raw.m);
    const platforms = await db.query('SELECT DISTINCT platform FROM trend_observations');
    expect(platforms.length).toBeGreaterThanOrEqual(3);
  });

  it('CLIs run beside a service that holds METRICS_PORT (no listener in a CLI)', async () => {
    const holder = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const { code, stdout } = await npmScript(db, ['jobs', '--', 'list', '--limit', '1'], {
        METRICS_PORT: String(port),
      });
      expect(stdout).not.toMatch(/EADDRINUSE/);
      expect(code).toBe(0);
    } finally {
      holder.close();
    }
  });
});
