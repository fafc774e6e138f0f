import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { loadConfig } from '../../src/config/config';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { randomObservations, seeded } from '../support/observations';
import { restoreBackup, verifyBackup } from '../support/backups';
import { bearer } from '../support/tokens';

const run = promisify(execFile);

/** Polls GET /backups/{id} until the background run is over. */
export async function waitForBackup(t: TestApp, id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await request(t.http)
      .get(`/api/v1/admin/backups/${id}`)
      .set(bearer(['admin']));
    expect(res.status).toBe(200);
    if (res.body.status !== 'running') return res.body as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`backup ${id} still running`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function createBackup(t: TestApp): Promise<Record<string, unknown>> {
  const res = await request(t.http)
    .post('/api/v1/admin/backups')
    .set(bearer(['admin']));
  expect(res.status).toBe(202);
  expect(Object.keys(res.body)).toEqual(['id']);
  return waitForBackup(t, res.body.id as string);
}

export async function seed(t: TestApp, count: number, seedValue: number): Promise<void> {
  const now = new Date();
  const observations = randomObservations(
    count,
    seeded(seedValue),
    new Date(now.getTime() - 3 * 86_400_000),
    new Date(now.getTime() - 60_000),
  );
  for (let i = 0; i < observations.length; i += 500) {
    const res = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations: observations.slice(i, i + 500) });
    expect(res.status).toBe(201);
  }
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Row count and a checksum of all rows in a fixed order, per table — computed by SQL, not by the service. */
async function fingerprint(
  db: TestDatabase,
  database: string,
): Promise<Record<string, { rows: number; md5: string | null }>> {
  const { Client } = await import('pg');
  const client = new Client({ ...db.server, database });
  await client.connect();
  try {
    const out: Record<string, { rows: number; md5: string | null }> = {};
    for (const table of [
      'trend_observations',
      'trend_rollups_hourly',
      'trend_rollups_daily',
      'trend_catalog',
      'retention_policies',
      'typeorm_migrations',
    ]) {
      const { rows } = await client.query<{ n: string; md5: string | null }>(
        `SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS md5 FROM ${table} t`,
      );
      out[table] = { rows: Number(rows[0].n), md5: rows[0].md5 };
    }
    return out;
  } finally {
    await client.end();
  }
}

async function databaseExists(db: TestDatabase, name: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rows.length > 0;
}

async function dropDatabase(db: TestDatabase, name: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ ...db.server, database: 'postgres' });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
}

async function metric(t: TestApp, line: RegExp): Promise<number | undefined> {
  const res = await request(t.http).get('/metrics');
  const found = res.text.split('\n').find((l) => line.test(l));
  return found === undefined ? undefined : Number(found.split(' ').pop());
}

describe('backups (real pg_dump / pg_restore)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let backup: Record<string, unknown>;
  const extraDatabases: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('backup');
    t = await startTestApp(db);
    await seed(t, 1200, 6);
  });
  afterAll(async () => {
    await t?.close();
    for (const name of extraDatabases) await dropDatabase(db, name);
    await db?.drop();
  });

  it('creates a backup in the background: file, sha256, manifest and pg_restore --list agree', async () => {
    backup = await createBackup(t);
    expect(backup).toMatchObject({
      status: 'succeeded',
      encrypted: false,
      trigger: 'api',
      error: null,
      deletedAt: null,
    });
    const file = join(t.config.backup.dir, backup.file as string);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(backup.sha256).toBe(sha256(file));
    expect(backup.sizeBytes).toBe(readFileSync(file).length);
    expect(backup.durationMs).toBeGreaterThanOrEqual(0);

    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toEqual(backup.manifest);
    expect(manifest).toMatchObject({
      sha256: backup.sha256,
      sizeBytes: backup.sizeBytes,
      encryption: null,
      pgDumpVersion: expect.stringMatching(/^\d+/),
    });
    const [{ server_version }] = await db.query<{ server_version: string }>('SHOW server_version');
    expect(server_version.startsWith(manifest.serverVersion as string)).toBe(true);

    // Row counts in the manifest: exact, per table; the observation partitions add up to the source's count.
    const tables = (manifest.rowCounts as { exact: boolean; tables: Record<string, number> })
      .tables;
    const [{ n }] = await db.query<{ n: string }>('SELECT count(*) AS n FROM trend_observations');
    expect(Number(n)).toBeGreaterThan(1000);
    // Each partition counted on its own, and the partitioned table's total under its own name.
    const partitioned = (manifest.rowCounts as { partitioned: Record<string, string[]> })
      .partitioned;
    const partitionNames = (
      await db.query<{ name: string }>(
        `SELECT 'public.' || quote_ident(c.relname) AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'trend_observations'::regclass ORDER BY 1`,
      )
    ).map((r) => r.name);
    expect(partitionNames.length).toBeGreaterThan(1);
    expect(partitioned['public.trend_observations']).toEqual(partitionNames);
    const observationRows = partitionNames.reduce((sum, name) => sum + tables[name], 0);
    expect(observationRows).toBe(Number(n));
    expect(tables['public.trend_observations']).toBe(Number(n));

    const { stdout } = await run('pg_restore', ['--list', file]);
    expect(stdout).toMatch(/TABLE public trend_observations /);
    expect(stdout).toMatch(/TABLE DATA public trend_observations_/);

    // The run went through the jobs runner, and the metrics saw it.
    const jobs = await request(t.http)
      .get('/api/v1/admin/jobs?job=backup')
      .set(bearer(['admin']));
    expect(jobs.body.items[0]).toMatchObject({
      job: 'backup',
      trigger: 'api',
      status: 'succeeded',
    });
    expect(jobs.body.items[0].details).toMatchObject({
      backupId: backup.id,
      sha256: backup.sha256,
    });
    expect(await metric(t, /^backup_size_bytes /)).toBe(backup.sizeBytes);
    expect(await metric(t, /^backup_last_success_timestamp_seconds /)).toBeGreaterThan(
      Date.now() / 1000 - 120,
    );
    expect(await metric(t, /^backup_duration_seconds_count /)).toBe(1);
    const audit = await db.query(
      "SELECT actor, target FROM admin_audit_log WHERE action = 'backup.create'",
    );
    expect(audit).toEqual([{ actor: 'tester', target: backup.id }]);
  });

  it('lists backups newest first', async () => {
    const second = await createBackup(t);
    const res = await request(t.http)
      .get('/api/v1/admin/backups')
      .set(bearer(['admin']));
    expect(res.status).toBe(200);
    expect(res.body.items.map((b: { id: string }) => b.id).slice(0, 2)).toEqual([
      second.id,
      backup.id,
    ]);
    expect(
      (
        await request(t.http)
          .get('/api/v1/admin/backups/nope')
          .set(bearer(['admin']))
      ).status,
    ).toBe(404);
  });

  it('restores into a new database: row counts and ordered-row checksums equal the source', async () => {
    const target = `${db.name}_r1`;
    extraDatabases.push(target);
    const restored = await restoreBackup(t, backup.id as string, {
      confirm: backup.id,
      targetDatabase: target,
    });
    expect(restored).toMatchObject({
      status: 'succeeded',
      source: 'local',
      targetDatabase: target,
      overLiveDatabase: false,
      rowCounts: { mismatches: [] },
    });
    // Nothing was written to the source since the backup's snapshot except backups/jobs/audit rows.
    expect(await fingerprint(db, target)).toEqual(await fingerprint(db, db.name));
    const [audit] = await db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM admin_audit_log WHERE action = 'backup.restore' AND target = $1",
      [backup.id],
    );
    expect(audit.details).toMatchObject({
      targetDatabase: target,
      overLiveDatabase: false,
      status: 'succeeded',
    });
  });

  it('restores into <db>_restore_<id> by default, and refuses an existing target', async () => {
    const res = { body: await restoreBackup(t, backup.id as string, { confirm: backup.id }) };
    expect(res.body.status).toBe('succeeded');
    // At most 63 bytes: the database name is shortened, the suffix naming the backup kept whole.
    const suffix = `_restore_${(backup.id as string).toLowerCase().replace(/-/g, '_')}`;
    const expected = `${db.name.slice(0, 63 - suffix.length)}${suffix}`;
    expect(res.body.targetDatabase).toBe(expected);
    extraDatabases.push(res.body.targetDatabase as string);
    expect(await databaseExists(db, res.body.targetDatabase as string)).toBe(true);
    const again = await request(t.http)
      .post(`/api/v1/admin/backups/${backup.id}/restore`)
      .set(bearer(['admin']))
      .send({ confirm: backup.id });
    expect(again.status).toBe(409);
  });

  it('verifies by restoring into a scratch database that is dropped afterwards', async () => {
    const res = { body: await verifyBackup(t, backup.id as string) };
    expect(res.body).toMatchObject({
      status: 'succeeded',
      source: 'local',
      ok: true,
      failedStep: null,
      steps: {
        file: 'ok',
        checksum: 'ok',
        decrypt: 'skipped',
        list: 'ok',
        restore: 'ok',
        row_counts: 'ok',
      },
      mismatches: [],
    });
    expect(res.body.tablesCompared).toBeGreaterThan(5);
    expect(await databaseExists(db, res.body.scratchDatabase as string)).toBe(false);
    const after = await request(t.http)
      .get(`/api/v1/admin/backups/${backup.id}`)
      .set(bearer(['admin']));
    expect(after.body.verifiedAt).not.toBeNull();
    expect(after.body.verification).toMatchObject({ ok: true });
    expect(await metric(t, /^backup_last_verified_timestamp_seconds /)).toBeGreaterThan(
      Date.now() / 1000 - 120,
    );
    const jobs = await request(t.http)
      .get('/api/v1/admin/jobs?job=backup-verify')
      .set(bearer(['admin']));
    expect(jobs.body.items[0]).toMatchObject({ status: 'succeeded', trigger: 'api' });
  });

  it('a row count that differs from the manifest fails verification at row_counts', async () => {
    const other = await createBackup(t);
    const manifest = other.manifest as { rowCounts: { tables: Record<string, number> } };
    manifest.rowCounts.tables['public.trend_catalog'] += 1;
    await db.query('UPDATE backups SET manifest = $2 WHERE id = $1', [
      other.id,
      JSON.stringify(manifest),
    ]);
    const res = { body: await verifyBackup(t, other.id as string) };
    expect(res.body).toMatchObject({
      ok: false,
      failedStep: 'row_counts',
      steps: { restore: 'ok', row_counts: 'failed' },
    });
    expect(res.body.mismatches).toEqual([
      {
        table: 'public.trend_catalog',
        expected: manifest.rowCounts.tables['public.trend_catalog'],
        actual: manifest.rowCounts.tables['public.trend_catalog'] - 1,
      },
    ]);
    expect(await databaseExists(db, res.body.scratchDatabase as string)).toBe(false);
    expect(await metric(t, /^errors_total\{service="backup",type="verify_row_counts"\} /)).toBe(1);
  });

  it('a verification left running by a process that stopped does not block a new one', async () => {
    // As a SIGKILLed replica leaves it: status running, but nobody holds the verify lock.
    await db.query(
      `UPDATE backups SET verification = '{"status":"running","startedAt":"2026-01-01T00:00:00.000Z"}' WHERE id = $1`,
      [backup.id],
    );
    const res = await verifyBackup(t, backup.id as string);
    expect(res).toMatchObject({ status: 'succeeded', ok: true });
    expect(res.restoreDurationMs).toBeGreaterThan(0);
  });

  it("a partitioned table's total that differs from the manifest fails verification too", async () => {
    const other = await createBackup(t);
    const manifest = other.manifest as { rowCounts: { tables: Record<string, number> } };
    const total = manifest.rowCounts.tables['public.trend_observations'];
    manifest.rowCounts.tables['public.trend_observations'] = total + 3;
    await db.query('UPDATE backups SET manifest = $2 WHERE id = $1', [
      other.id,
      JSON.stringify(manifest),
    ]);
    const res = await verifyBackup(t, other.id as string);
    expect(res).toMatchObject({ ok: false, status: 'failed', failedStep: 'row_counts' });
    // Only the total differs: every partition's own count still matched.
    expect(res.mismatches).toEqual([
      { table: 'public.trend_observations', expected: total + 3, actual: total },
    ]);
  });

  it('guards restore: confirm, role, and the live database', async () => {
    const url = `/api/v1/admin/backups/${backup.id}/restore`;
    const missing = await request(t.http)
      .post(url)
      .set(bearer(['admin']))
      .send({});
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ field: 'confirm', message: expect.any(String) }]);
    const wrong = await request(t.http)
      .post(url)
      .set(bearer(['admin']))
      .send({ confirm: 'something-else' });
    expect(wrong.status).toBe(400);
    const analyst = await request(t.http)
      .post(url)
      .set(bearer(['analyst']))
      .send({ confirm: backup.id });
    expect(analyst.status).toBe(403);
    const noToken = await request(t.http).post(url).send({ confirm: backup.id });
    expect(noToken.status).toBe(401);
    const live = await request(t.http)
      .post(url)
      .set(bearer(['admin']))
      .send({ confirm: backup.id, targetDatabase: db.name });
    expect(live.status).toBe(400);
    expect(live.body.errors).toEqual([
      { field: 'force', message: expect.stringContaining('"force": true') },
    ]);
    const badName = await request(t.http)
      .post(url)
      .set(bearer(['admin']))
      .send({ confirm: backup.id, targetDatabase: 'x"; DROP' });
    expect(badName.status).toBe(400);
    for (const path of ['', `/${backup.id}`]) {
      expect(
        (
          await request(t.http)
            .get(`/api/v1/admin/backups${path}`)
            .set(bearer(['analyst']))
        ).status,
      ).toBe(403);
    }
    expect(
      (
        await request(t.http)
          .post('/api/v1/admin/backups')
          .set(bearer(['ingest']))
      ).status,
    ).toBe(403);
  });

  it('restores over the live database only with force, and records it in the audit log', async () => {
    // Rows written after the backup disappear again: the live database is back at the snapshot.
    const before = await fingerprint(db, db.name);
    await seed(t, 50, 99);
    expect((await fingerprint(db, db.name)).trend_observations.rows).toBe(
      before.trend_observations.rows + 50,
    );
    const restored = await restoreBackup(t, backup.id as string, {
      confirm: backup.id,
      targetDatabase: db.name,
      force: true,
    });
    expect(restored).toMatchObject({
      status: 'succeeded',
      overLiveDatabase: true,
      targetDatabase: db.name,
    });
    expect(await fingerprint(db, db.name)).toEqual(before);
    // The ledger is carried over, not rolled back to the snapshot (where this backup was still running).
    const ledger = await request(t.http)
      .get(`/api/v1/admin/backups/${backup.id}`)
      .set(bearer(['admin']));
    expect(ledger.body).toMatchObject({ status: 'succeeded', sha256: backup.sha256 });
    expect(ledger.body.verifiedAt).not.toBeNull();
    const audit = await db.query<{ actor: string; details: Record<string, unknown> }>(
      "SELECT actor, details FROM admin_audit_log WHERE action = 'backup.restore' AND details->>'overLiveDatabase' = 'true'",
    );
    expect(audit).toEqual([
      { actor: 'tester', details: expect.objectContaining({ force: true, status: 'succeeded' }) },
    ]);
    // The service keeps answering on the restored database.
    const top = await request(t.http)
      .get('/api/v1/trends/top?window=7d')
      .set(bearer(['analyst']));
    expect(top.status).toBe(200);
  });

  it('the CLI lists and creates backups with the same service', async () => {
    const env = {
      ...process.env,
      ...db.env,
      BACKUP_DIR: t.config.backup.dir,
      DATA_DIR: t.dataDir,
      LOG_LEVEL: 'error',
      JOBS_ENABLED: 'false',
      DEMO_DATA: 'false',
      NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(40),
    };
    const cli = (args: string[]) =>
      run('npx', ['ts-node', '--transpile-only', 'src/backup/backup.cli.ts', ...args], {
        env,
        cwd: process.cwd(),
        maxBuffer: 10 * 1024 * 1024,
      });
    const created = await cli(['create']);
    const view = JSON.parse(created.stdout) as Record<string, unknown>;
    expect(view).toMatchObject({ status: 'succeeded', trigger: 'cli' });
    expect(existsSync(join(t.config.backup.dir, view.file as string))).toBe(true);
    const listed = await cli(['list']);
    expect(listed.stdout).toContain(view.id as string);
    expect(listed.stdout).toContain(backup.id as string);
    await expect(cli(['verify', 'no-such-backup'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not found'),
    });
  });
});

describe('backup gauges after a restart', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('backup_gauges');
    await (await startTestApp(db)).close(); // migrations
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('are seeded from the ledger: last success, last verification and size', async () => {
    // Two succeeded backups (the newer one verified earlier than the older) and a newer failure.
    await db.query(
      `INSERT INTO backups (id, file, status, size_bytes, started_at, finished_at, verified_at) VALUES
         ('old', 'old.dump', 'succeeded', 1111, '2026-03-01T02:00:00Z', '2026-03-01T02:00:05Z', '2026-03-02T03:00:00Z'),
         ('new', 'new.dump', 'succeeded', 2222, '2026-03-02T02:00:00Z', '2026-03-02T02:00:07.5Z', '2026-03-02T02:30:00Z'),
         ('bad', 'bad.dump', 'failed', NULL, '2026-03-03T02:00:00Z', '2026-03-03T02:00:01Z', NULL)`,
    );
    const t = await startTestApp(db);
    try {
      expect(await metric(t, /^backup_last_success_timestamp_seconds /)).toBe(
        Date.parse('2026-03-02T02:00:07.5Z') / 1000,
      );
      expect(await metric(t, /^backup_last_verified_timestamp_seconds /)).toBe(
        Date.parse('2026-03-02T03:00:00Z') / 1000,
      );
      expect(await metric(t, /^backup_size_bytes /)).toBe(2222);
    } finally {
      await t.close();
    }
  });
});

describe('backup failure paths', () => {
  let db: TestDatabase;
  let scratch: string;
  beforeAll(async () => {
    db = await createTestDatabase('backup_fail');
    scratch = mkdtempSync(join(tmpdir(), 'trend-backup-fail-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function failedBackup(
    env: Record<string, string>,
  ): Promise<{ t: TestApp; backup: Record<string, unknown> }> {
    const t = await startTestApp(db, env);
    try {
      const backup = await createBackup(t);
      expect(backup.status).toBe('failed');
      const jobs = await request(t.http)
        .get('/api/v1/admin/jobs?job=backup')
        .set(bearer(['admin']));
      expect(jobs.body.items[0]).toMatchObject({ status: 'failed', error: backup.error });
      return { t, backup };
    } catch (error) {
      await t.close();
      throw error;
    }
  }

  it('pg_dump missing: says which package installs it', async () => {
    const emptyBin = join(scratch, 'empty-bin');
    const dir = join(scratch, 'b1');
    mkdirSync(emptyBin);
    const { t, backup } = await failedBackup({ PG_BIN_DIR: emptyBin, BACKUP_DIR: dir });
    try {
      expect(backup.error).toMatch(
        /pg_dump not found in PG_BIN_DIR .*apt-get install postgresql-client/,
      );
      expect(await metric(t, /^errors_total\{service="backup",type="pg_dump_missing"\} /)).toBe(1);
      expect(await metric(t, /^backup_duration_seconds_count /)).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('BACKUP_DIR not writable (a path below a regular file; root ignores chmod)', async () => {
    const blocker = join(scratch, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const { t, backup } = await failedBackup({ BACKUP_DIR: join(blocker, 'backups') });
    try {
      expect(backup.error).toMatch(/BACKUP_DIR .* is not usable: ENOTDIR/);
      expect(await metric(t, /^errors_total\{service="backup",type="dir_unwritable"\} /)).toBe(1);
    } finally {
      await t.close();
    }
  });

  /**
   * Needs root: only a real file system that fills up makes pg_dump's output hit ENOSPC part
   * way through, and mounting a 16 KiB tmpfs takes CAP_SYS_ADMIN. CI runs as root (.ci/run
   * installs packages with apt-get as the same user), so this runs there; elsewhere it fails
   * saying so instead of being skipped.
   */
  it('disk full mid-dump (a 16 KiB tmpfs): failed with the reason, partial file removed', async () => {
    if (process.getuid?.() !== 0)
      throw new Error('this test mounts a tmpfs and must run as root (CI does)');
    const mountPoint = join(scratch, 'tiny');
    mkdirSync(mountPoint);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=16k,mode=0700', 'tmpfs', mountPoint]);
    try {
      const seeder = await startTestApp(db);
      await seed(seeder, 1500, 7); // enough rows that the dump is far larger than 16 KiB
      await seeder.close();
      const { t, backup } = await failedBackup({ BACKUP_DIR: mountPoint });
      try {
        expect(backup.error).toMatch(
          /^disk full while writing .* after \d+ bytes \(.*ENOSPC.*\); partial file removed$/,
        );
        expect(readdirSync(mountPoint)).toEqual([]);
        expect(await metric(t, /^errors_total\{service="backup",type="disk_full"\} /)).toBe(1);
      } finally {
        await t.close();
      }
    } finally {
      await run('umount', [mountPoint]);
    }
  });

  it('a malformed BACKUP_ENCRYPTION_KEY is refused when the configuration loads, naming the variable', () => {
    expect(() =>
      loadConfig({ ...db.env, BACKUP_ENCRYPTION_KEY: randomBytes(16).toString('base64') }),
    ).toThrow(/BACKUP_ENCRYPTION_KEY/);
  });
});

describe('encrypted backups', () => {
  let db: TestDatabase;
  let dir: string;
  const key = randomBytes(32).toString('base64');
  beforeAll(async () => {
    db = await createTestDatabase('backup_enc');
    dir = mkdtempSync(join(tmpdir(), 'trend-backup-enc-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not a pg_dump archive; verifies with the key, fails with a wrong key or one flipped byte', async () => {
    const t = await startTestApp(db, { BACKUP_DIR: dir, BACKUP_ENCRYPTION_KEY: key });
    let backup: Record<string, unknown>;
    try {
      await seed(t, 400, 8);
      backup = await createBackup(t);
      expect(backup).toMatchObject({ status: 'succeeded', encrypted: true });
      expect(backup.manifest).toMatchObject({
        encryption: { algorithm: 'AES-256-GCM', ivBytes: 12, tagBytes: 16 },
      });
      expect(JSON.stringify(backup.manifest)).not.toContain(key);
      const file = join(dir, backup.file as string);
      expect(readFileSync(file).subarray(0, 4).toString()).toBe('TSBK');
      await expect(run('pg_restore', ['--list', file])).rejects.toMatchObject({
        stderr: expect.stringMatching(/input file does not appear to be a valid archive/),
      });

      const ok = { body: await verifyBackup(t, backup.id as string) };
      expect(ok.body).toMatchObject({
        ok: true,
        steps: { decrypt: 'ok', restore: 'ok', row_counts: 'ok' },
      });
      // No decrypted copy is left behind.
      expect(readdirSync(dir).sort()).toEqual([backup.file, `${backup.file}.manifest.json`].sort());
    } finally {
      await t.close();
    }

    const wrong = await startTestApp(db, {
      BACKUP_DIR: dir,
      BACKUP_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    try {
      const res = { body: await verifyBackup(wrong, backup.id as string) };
      expect(res.body).toMatchObject({
        ok: false,
        failedStep: 'decrypt',
        steps: { checksum: 'ok', decrypt: 'failed' },
      });
      expect(res.body.error).toMatch(/authentication failed/);
      const failedRun = await request(wrong.http)
        .get('/api/v1/admin/jobs?job=backup-verify')
        .set(bearer(['admin']));
      expect(failedRun.body.items[0]).toMatchObject({
        status: 'failed',
        error: expect.stringContaining('failed at decrypt'),
      });
    } finally {
      await wrong.close();
    }

    const right = await startTestApp(db, { BACKUP_DIR: dir, BACKUP_ENCRYPTION_KEY: key });
    try {
      const file = join(dir, backup.file as string);
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)] ^= 0x10;
      writeFileSync(file, bytes);
      const checksum = { body: await verifyBackup(right, backup.id as string) };
      expect(checksum.body).toMatchObject({ ok: false, failedStep: 'checksum' });
      // Someone who can also rewrite the recorded checksum is still caught by GCM authentication.
      await db.query('UPDATE backups SET sha256 = $2 WHERE id = $1', [backup.id, sha256(file)]);
      const auth = { body: await verifyBackup(right, backup.id as string) };
      expect(auth.body).toMatchObject({ ok: false, failedStep: 'decrypt' });
      expect(auth.body.error).toMatch(/authentication failed/);
      const restore = await restoreBackup(right, backup.id as string, { confirm: backup.id });
      expect(restore).toMatchObject({ status: 'failed' });
      expect(restore.error).toMatch(/authentication failed/);
      expect(
        await databaseExists(
          db,
          `${db.name}_restore_${(backup.id as string).toLowerCase().replace(/-/g, '_')}`,
        ),
      ).toBe(false);
    } finally {
      await right.close();
    }
  });
});
