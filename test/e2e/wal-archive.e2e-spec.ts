import { chmodSync, readdirSync, rmSync } from 'node:fs';
import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestCluster, postgresDir, startTestCluster } from '../support/cluster';
import { bearer } from '../support/tokens';

async function metric(t: TestApp, name: string): Promise<number | undefined> {
  const res = await request(t.http).get('/metrics');
  const line = res.text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Archiver {
  archived_count: string;
  last_archived_wal: string | null;
  last_archived_time: Date | null;
  failed_count: string;
}

/**
 * WAL archive watch (SPEC §15) against a throwaway cluster with archive_mode=on and a `cp`
 * archive_command: the metrics, /health and /monitoring/admin/database follow pg_stat_archiver.
 */
describe('WAL archive watch (throwaway cluster, archive_mode=on)', () => {
  let cluster: TestCluster;
  let t: TestApp;
  let archive: string;

  const archiver = async () => (await cluster.query<Archiver>('SELECT * FROM pg_stat_archiver'))[0];
  const switchWal = async () => {
    await cluster.query('CREATE TABLE IF NOT EXISTS wal_churn (n int)');
    await cluster.query('INSERT INTO wal_churn SELECT generate_series(1, 100)');
    await cluster.query('SELECT pg_switch_wal()');
  };

  beforeAll(async () => {
    archive = postgresDir('trend-wal-archive-');
    // The archive_command deploy/pgbackrest replaces with `pgbackrest archive-push`.
    cluster = await startTestCluster({
      archive_mode: 'on',
      archive_command: `test ! -f ${archive}/%f && cp %p ${archive}/%f`,
      wal_level: 'replica',
    });
    await cluster.query('CREATE DATABASE trend');
    t = await startTestApp(cluster.database('trend'));
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    cluster?.destroy();
    if (archive) rmSync(archive, { recursive: true, force: true });
  });

  it('metrics, /health and /monitoring/admin/database move after pg_switch_wal()', async () => {
    const before = Number((await archiver()).archived_count);
    await switchWal();
    const after = await until('a segment to be archived', async () => {
      const a = await archiver();
      return Number(a.archived_count) > before ? a : undefined;
    });
    expect(readdirSync(archive)).toContain(after.last_archived_wal);
    // The gauge equals the server's last_archived_time, read independently.
    expect(await metric(t, 'wal_archive_last_success_timestamp_seconds')).toBeCloseTo(
      after.last_archived_time!.getTime() / 1000,
      2,
    );
    expect(await metric(t, 'wal_archive_failures_total')).toBe(0);

    const health = await request(t.http).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.details.walArchive).toMatchObject({
      status: 'up',
      archiveMode: 'on',
      lastArchivedWal: expect.any(String),
      failedCount: 0,
    });
    const db = await request(t.http)
      .get('/monitoring/admin/database')
      .set(bearer(['admin']));
    expect(db.status).toBe(200);
    expect(db.body.walArchive).toMatchObject({
      archiveMode: 'on',
      failing: false,
      failedCount: 0,
    });
    expect(Number(db.body.walArchive.archivedCount)).toBeGreaterThanOrEqual(
      Number(after.archived_count),
    );
  });

  it('failures are counted when the archive directory is unwritable', async () => {
    const lastSuccess = await metric(t, 'wal_archive_last_success_timestamp_seconds');
    chmodSync(archive, 0o500); // the server runs as postgres: cp now fails
    try {
      await switchWal();
      const failed = await until('a failed archive attempt', async () => {
        const a = await archiver();
        return Number(a.failed_count) > 0 ? Number(a.failed_count) : undefined;
      });
      const counted = await metric(t, 'wal_archive_failures_total');
      expect(counted).toBeGreaterThanOrEqual(failed);
      expect(counted).toBeLessThanOrEqual(Number((await archiver()).failed_count));
      // Nothing archived meanwhile: the RPO gauge stands still.
      expect(await metric(t, 'wal_archive_last_success_timestamp_seconds')).toBe(lastSuccess);
      const health = await request(t.http).get('/health');
      // Reported, but WAL archiving is not required for the service to serve.
      expect(health.status).toBe(200);
      expect(health.body.error.walArchive).toMatchObject({
        status: 'down',
        message: expect.stringMatching(/^archiving .* failed at /),
      });
    } finally {
      chmodSync(archive, 0o700);
    }
    // Writable again: the archiver catches up by itself and the health recovers.
    await until('archiving to recover', async () => {
      const res = await request(t.http).get('/health');
      return res.body.details.walArchive?.status === 'up' ? true : undefined;
    });
  });
});
