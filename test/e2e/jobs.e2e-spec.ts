import { spawn } from 'node:child_process';
import request from 'supertest';
import { AdvisoryLock } from '../../src/database/advisory-lock';
import { JobsService } from '../../src/jobs/jobs.service';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';
import { insertDefaultObservations, monthStart } from '../support/retention';

const admin = bearer(['admin']);
const MINUTE = 60_000;

interface RunRow {
  id: string;
  status: string;
  trigger: string;
  started_at: Date;
  finished_at: Date | null;
}

describe('jobs runner: cluster-wide locks and the job_runs ledger', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const run = (t: TestApp) =>
    request(t.http).post('/api/v1/admin/retention/run?dryRun=false').set(admin);

  beforeAll(async () => {
    db = await createTestDatabase('jobs');
    a = await startTestApp(db);
    b = await startTestApp(db);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('records skipped_locked while another connection holds the partitions lock, and runs once it is free', async () => {
    const holder = await db.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [AdvisoryLock.Partitions]);
      const res = await run(a);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('skipped_locked');
      const [row] = await db.query<RunRow>(`SELECT * FROM job_runs WHERE id = $1`, [
        res.body.runId,
      ]);
      expect(row).toMatchObject({ status: 'skipped_locked', trigger: 'api' });
      expect(row.finished_at).not.toBeNull();
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [AdvisoryLock.Partitions]);
      await holder.end();
    }
    const after = await run(a);
    expect(after.body.status).toBe('succeeded');
  });

  it('with two app instances triggered at once, one run does the work and the other is skipped', async () => {
    // Enough rows stuck in DEFAULT that the winning run holds the lock for a while.
    const m = monthStart(new Date(), 10);
    const rows = Array.from({ length: 20_000 }, (_, i) => ({
      at: new Date(m.getTime() + i * MINUTE),
      key: `k${i % 50}`,
      mentions: 1,
    }));
    await insertDefaultObservations(db, rows);

    const [ra, rb] = await Promise.all([run(a), run(b)]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect([ra.body.status, rb.body.status].sort()).toEqual(['skipped_locked', 'succeeded']);
    const winner = ra.body.status === 'succeeded' ? ra.body : rb.body;
    const loser = ra.body.status === 'succeeded' ? rb.body : ra.body;
    expect(winner.result.relocatedRows).toBe(20_000);

    const [w] = await db.query<RunRow>(`SELECT * FROM job_runs WHERE id = $1`, [winner.runId]);
    const [l] = await db.query<RunRow>(`SELECT * FROM job_runs WHERE id = $1`, [loser.runId]);
    // The two were triggered together: the skipped one was recorded before the winner finished.
    expect(l.started_at.getTime()).toBeLessThanOrEqual(w.finished_at!.getTime());
    expect(l.finished_at!.getTime()).toBeLessThanOrEqual(w.finished_at!.getTime());
    expect(
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM trend_observations_default`))[0].n,
    ).toBe('0');
  });

  it('releases the lock after a run, so no pooled connection keeps it', async () => {
    const [row] = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1`,
      [AdvisoryLock.Partitions],
    );
    expect(row.n).toBe('0');
  });

  it('lists runs newest first with job/status/limit filters; one run by id', async () => {
    const all = await request(t(a)).get('/api/v1/admin/jobs?job=partitions').set(admin);
    expect(all.status).toBe(200);
    const statuses = all.body.items.map((r: { status: string }) => r.status);
    expect(statuses.filter((s: string) => s === 'succeeded')).toHaveLength(2);
    expect(statuses.filter((s: string) => s === 'skipped_locked')).toHaveLength(2);
    const started = all.body.items.map((r: { startedAt: string }) => r.startedAt);
    expect(started).toEqual([...started].sort().reverse());
    const ids = all.body.items.map((r: { id: string }) => Number(r.id));

    const skipped = await request(t(a))
      .get('/api/v1/admin/jobs?job=partitions&status=skipped_locked&limit=1')
      .set(admin);
    expect(skipped.body.items).toHaveLength(1);
    expect(skipped.body.items[0]).toMatchObject({
      job: 'partitions',
      status: 'skipped_locked',
      trigger: 'api',
    });

    const one = await request(t(a)).get(`/api/v1/admin/jobs/${ids[0]}`).set(admin);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(String(ids[0]));
    expect((await request(t(a)).get('/api/v1/admin/jobs/999999').set(admin)).status).toBe(404);
    expect(
      (await request(t(a)).get('/api/v1/admin/jobs?job=bogus').set(admin)).body.errors[0].field,
    ).toBe('job');
    expect((await request(t(a)).get('/api/v1/admin/jobs')).status).toBe(401);
    expect(
      (
        await request(t(a))
          .get('/api/v1/admin/jobs')
          .set(bearer(['analyst']))
      ).status,
    ).toBe(403);
  });

  it('runs the same job from the CLI (dry run prints the plan; a real run is recorded with trigger cli)', async () => {
    const env = {
      ...process.env,
      ...db.env,
      LOG_LEVEL: 'silent',
      DATA_DIR: a.dataDir,
      JWT_SECRET: a.config.jwt.secret,
    };
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(
          'npx',
          ['ts-node', '--transpile-only', 'src/jobs/jobs.cli.ts', ...args],
          { env },
        );
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.on('close', (code) => resolve({ code, out }));
      });
    const dry = await cli(['run', 'partitions', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ dryRun: true, plan: { create: [], relocate: [] } });

    const real = await cli(['run', 'partitions']);
    expect(real.code).toBe(0);
    const outcome = JSON.parse(real.out);
    expect(outcome.status).toBe('succeeded');
    const [row] = await db.query<RunRow>(`SELECT * FROM job_runs WHERE id = $1`, [outcome.runId]);
    expect(row).toMatchObject({ status: 'succeeded', trigger: 'cli' });
    // both manual runs are in the audit log, under the operating-system user
    const audits = await db.query<{ actor: string; action: string; details: { dryRun: boolean } }>(
      `SELECT actor, action, details FROM admin_audit_log WHERE actor LIKE 'cli:%' ORDER BY id`,
    );
    expect(audits.map((a) => [a.action, a.details.dryRun])).toEqual([
      ['retention.run', true],
      ['retention.run', false],
    ]);
  }, 120_000);
});

const t = (app: TestApp) => app.http;

describe('jobs runner: interrupted runs and cron ticks', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('jobs_ticks');
    t = await startTestApp(db);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const jobs = () => t.app.get(JobsService);
  const noop = async () => ({ did: 'nothing' });

  it('marks a run left `running` by a stopped process as failed once it holds the lock', async () => {
    const [stale] = await db.query<{ id: string }>(
      `INSERT INTO job_runs (job, trigger, status, started_at) VALUES ('index-maintenance', 'cron', 'running', now() - interval '1 hour') RETURNING id`,
    );
    const outcome = await jobs().run('index-maintenance', 'api', noop);
    expect(outcome.status).toBe('succeeded');
    const [row] = await db.query<{ status: string; error: string }>(
      'SELECT status, error FROM job_runs WHERE id = $1',
      [stale.id],
    );
    expect(row).toMatchObject({ status: 'failed', error: expect.stringMatching(/interrupted/) });
  });

  it('runs a cron tick once even when another replica fired it a moment earlier', async () => {
    const first = await jobs().run('partitions', 'cron', noop);
    expect(first.status).toBe('succeeded');
    // a replica whose clock is a little behind fires the same tick after the first run ended
    const late = await jobs().run('partitions', 'cron', noop);
    expect(late.status).toBe('skipped_locked');
    // manual runs are never deduplicated
    expect((await jobs().run('partitions', 'api', noop)).status).toBe('succeeded');
  });
});
