import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import request from 'supertest';
import { BackupOffsite } from '../../src/backup/backup-offsite';
import { BackupRepository, BackupRow, OffsiteState } from '../../src/backup/backup.repository';
import { BackupService } from '../../src/backup/backup.service';
import { AppConfig } from '../../src/config/config';
import { MetricsService } from '../../src/monitoring/metrics/metrics.service';
import { TestApp, startTestApp } from '../support/app';
import { restoreBackup, verifyBackup } from '../support/backups';
import { TestDatabase, createTestDatabase } from '../support/database';
import { randomObservations, seeded } from '../support/observations';
import { TestS3, startTestS3 } from '../support/s3';
import { bearer } from '../support/tokens';

type Body = Record<string, unknown>;

async function createBackup(t: TestApp): Promise<Body> {
  const res = await request(t.http)
    .post('/api/v1/admin/backups')
    .set(bearer(['admin']));
  expect(res.status).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await request(t.http)
      .get(`/api/v1/admin/backups/${res.body.id}`)
      .set(bearer(['admin']));
    // Done when the dump is over and, after a success, the off-site step has been recorded.
    if (got.body.status === 'failed' || (got.body.status === 'succeeded' && got.body.offsite))
      return got.body as Body;
    if (Date.now() > deadline) throw new Error(`backup ${res.body.id} not finished`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function getBackup(t: TestApp, id: unknown): Promise<Body> {
  const res = await request(t.http)
    .get(`/api/v1/admin/backups/${String(id)}`)
    .set(bearer(['admin']));
  return res.body as Body;
}

async function objectSha256(s3: TestS3, key: string): Promise<{ sha256: string; bytes: number }> {
  const got = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of got.Body as Readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function objectExists(s3: TestS3, key: string): Promise<boolean> {
  try {
    await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound') return false;
    throw error;
  }
}

async function metric(t: TestApp, name: string): Promise<number | undefined> {
  const res = await request(t.http).get('/metrics');
  const line = res.text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

async function counts(db: TestDatabase, database: string): Promise<Record<string, number>> {
  const { Client } = await import('pg');
  const client = new Client({ ...db.server, database });
  await client.connect();
  try {
    const out: Record<string, number> = {};
    for (const table of ['trend_observations', 'trend_rollups_hourly', 'trend_catalog']) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      out[table] = Number(rows[0].n);
    }
    return out;
  } finally {
    await client.end();
  }
}

describe('off-site backup copies on S3-compatible storage (s3rver)', () => {
  let db: TestDatabase;
  let s3: TestS3;
  let t: TestApp;
  const extraDatabases: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('backup_offsite');
    s3 = await startTestS3();
    t = await startTestApp(db, {
      ...s3.env,
      BACKUP_S3_PREFIX: 'test/trend/',
      // One daily backup kept: rotation then has remote copies to delete.
      BACKUP_KEEP_DAILY: '1',
      BACKUP_KEEP_WEEKLY: '0',
      BACKUP_KEEP_MONTHLY: '0',
    });
    const now = Date.now();
    const observations = randomObservations(
      600,
      seeded(16),
      new Date(now - 2 * 86_400_000),
      new Date(now - 60_000),
    );
    const res = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations });
    expect(res.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await s3?.destroy();
    const { Client } = await import('pg');
    const client = new Client({ ...db.server, database: 'postgres' });
    await client.connect();
    for (const name of extraDatabases)
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
    await db?.drop();
  });

  let first: Body;

  it('uploads the file and manifest; the stored object has the backup’s size and sha256', async () => {
    first = await createBackup(t);
    expect(first.status).toBe('succeeded');
    const key = `test/trend/${first.file as string}`;
    expect(first.offsite).toEqual({
      key,
      status: 'uploaded',
      uploadedAt: expect.any(String),
      error: null,
      sizeBytes: first.sizeBytes,
      sha256: first.sha256,
      attempts: 1,
    });
    // Read back independently of the service.
    expect(await objectSha256(s3, key)).toEqual({
      sha256: first.sha256,
      bytes: first.sizeBytes,
    });
    const manifest = await objectSha256(s3, `${key}.manifest.json`);
    expect(manifest.bytes).toBeGreaterThan(100);
    expect(await metric(t, 'backup_offsite_last_success_timestamp_seconds')).toBeGreaterThan(
      Date.now() / 1000 - 120,
    );
    expect(await metric(t, 'backup_offsite_failures_total')).toBe(0);
  });

  it('verify and restore use the remote copy when the local file is gone', async () => {
    const file = join(t.config.backup.dir, first.file as string);
    rmSync(file);
    rmSync(`${file}.manifest.json`);
    const verification = await verifyBackup(t, first.id as string);
    expect(verification).toMatchObject({
      status: 'succeeded',
      ok: true,
      source: 'offsite',
      mismatches: [],
    });
    // Measured RTO: on the backup and in the metrics.
    expect(verification.restoreDurationMs).toBeGreaterThan(0);
    const view = await getBackup(t, first.id);
    expect(view.restoreDurationMs).toBe(verification.restoreDurationMs);
    expect(await metric(t, 'backup_last_restore_duration_seconds')).toBeCloseTo(
      (verification.restoreDurationMs as number) / 1000,
      3,
    );

    const target = `${db.name}_offsite_r`;
    extraDatabases.push(target);
    const restored = await restoreBackup(t, first.id as string, {
      confirm: first.id,
      targetDatabase: target,
    });
    expect(restored).toMatchObject({
      status: 'succeeded',
      source: 'offsite',
      rowCounts: { mismatches: [] },
    });
    expect(await counts(db, target)).toEqual(await counts(db, db.name));
    // The downloaded copy was temporary: the local file is still gone, nothing left behind.
    expect(existsSync(file)).toBe(false);
  });

  let failed: Body;

  it('storage down: the local backup is fine, the failure recorded and counted; the next run uploads', async () => {
    await s3.stop();
    failed = await createBackup(t);
    expect(failed.status).toBe('succeeded');
    expect(existsSync(join(t.config.backup.dir, failed.file as string))).toBe(true);
    expect(failed.offsite).toMatchObject({ status: 'failed', uploadedAt: null, attempts: 1 });
    expect(failed.offsite as Body).toHaveProperty('error', expect.any(String));
    expect(await metric(t, 'backup_offsite_failures_total')).toBeGreaterThanOrEqual(1);

    await s3.start();
    const next = await createBackup(t);
    expect(next.offsite).toMatchObject({ status: 'uploaded' });
    const retried = await getBackup(t, failed.id);
    expect(retried.offsite).toMatchObject({ status: 'uploaded', error: null, attempts: 2 });
    expect(await objectSha256(s3, (retried.offsite as Body).key as string)).toEqual({
      sha256: failed.sha256,
      bytes: failed.sizeBytes,
    });
  });

  it('rotation deletes the remote copies with the local files', async () => {
    const before = (
      await request(t.http)
        .get('/api/v1/admin/backups')
        .set(bearer(['admin']))
    ).body.items as Body[];
    const live = before.filter((b) => b.status === 'succeeded' && b.deletedAt === null);
    expect(live.length).toBe(3);
    const result = await t.app.get(BackupService).rotate();
    // Kept: the newest (daily 1) and the newest verified (the first); the middle one goes.
    expect(result.deleted).toEqual([failed.id]);
    const gone = await getBackup(t, failed.id);
    expect(gone.deletedAt).not.toBeNull();
    expect(gone.offsite).toMatchObject({ status: 'deleted' });
    const key = (gone.offsite as Body).key as string;
    expect(await objectExists(s3, key)).toBe(false);
    expect(await objectExists(s3, `${key}.manifest.json`)).toBe(false);
    expect(existsSync(join(t.config.backup.dir, failed.file as string))).toBe(false);
    for (const id of result.kept) {
      const kept = await getBackup(t, id);
      expect(await objectExists(s3, (kept.offsite as Body).key as string)).toBe(true);
    }
  });
});

describe('off-site store on its own (no database)', () => {
  let s3: TestS3;
  let dir: string;
  beforeAll(async () => {
    s3 = await startTestS3('big');
    dir = mkdtempSync(join(tmpdir(), 'trend-offsite-big-'));
  });
  afterAll(async () => {
    await s3?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a file larger than one part in several parts and reads back the same sha256', async () => {
    const bytes = randomBytes(19 * 1024 * 1024); // 8 MiB parts: three of them
    const path = join(dir, 'big.dump');
    writeFileSync(path, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const recorded: OffsiteState[] = [];
    const repo = {
      recordOffsite: (_id: string, state: OffsiteState) => {
        recorded.push(state);
        return Promise.resolve();
      },
    } as unknown as BackupRepository;
    const config = {
      backup: {
        s3: {
          bucket: 'big',
          endpoint: s3.endpoint,
          region: 'us-east-1',
          prefix: 'p/',
          accessKeyId: s3.env.BACKUP_S3_ACCESS_KEY_ID,
          secretAccessKey: s3.env.BACKUP_S3_SECRET_ACCESS_KEY,
          forcePathStyle: true,
        },
      },
    } as unknown as AppConfig;
    const offsite = new BackupOffsite(config, repo, new MetricsService());
    const row = {
      id: 'big1',
      file: 'big.dump',
      size_bytes: String(bytes.length),
      sha256,
      manifest: { sha256 },
      offsite: null,
    } as unknown as BackupRow;
    const sent: string[] = [];
    const send = S3Client.prototype.send;
    const spy = jest.spyOn(S3Client.prototype, 'send').mockImplementation(function (
      this: S3Client,
      command: { constructor: { name: string } },
    ) {
      sent.push(command.constructor.name);
      return (send as (c: unknown) => Promise<unknown>).call(this, command);
    } as never);
    const state = await offsite.upload(row, path).finally(() => spy.mockRestore());
    expect(sent.filter((name) => name === 'UploadPartCommand')).toHaveLength(3);
    expect(sent).toContain('CompleteMultipartUploadCommand');
    expect(state).toMatchObject({ status: 'uploaded', key: 'p/big.dump', sha256 });
    expect(recorded).toEqual([state]);
    expect(await objectSha256({ ...s3, bucket: 'big' }, 'p/big.dump')).toEqual({
      sha256,
      bytes: bytes.length,
    });
    offsite.onModuleDestroy();
  });
});
