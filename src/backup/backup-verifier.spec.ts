import { ConnectionTarget } from '../database/data-source';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { BackupArchives } from './backup-archive';
import { BackupRestorer } from './backup-restorer';
import { BackupVerifier } from './backup-verifier';
import { BackupRepository, BackupRow } from './backup.repository';
import { PgProcessRunner, ShutdownInterrupt } from './pg-process';

/** The verifier with every collaborator faked: no database, no pg tools, no files. */
function setup(restore: () => Promise<void>, shuttingDown = false) {
  const recorded: { result: Record<string, unknown>; ok: boolean }[] = [];
  const repo = {
    serverVersion: () => Promise.resolve({ major: 15, version: '15.0' }),
    dropDatabase: () => Promise.resolve(),
    createDatabase: () => Promise.resolve(),
    recordVerification: (_id: string, result: Record<string, unknown>, ok: boolean) => {
      recorded.push({ result, ok });
      return Promise.resolve();
    },
  } as unknown as BackupRepository;
  const archives = {
    open: (_row: BackupRow, onStep: (s: string) => void) => {
      onStep('checksum');
      onStep('decrypt');
      return Promise.resolve({ path: '/x', source: 'offsite', cleanup: () => Promise.resolve() });
    },
  } as unknown as BackupArchives;
  const restorer = {
    listEntries: () => Promise.resolve(7),
    intoDatabase: restore,
    compareRowCounts: () => Promise.resolve({ tablesCompared: 3, mismatches: [] }),
  } as unknown as BackupRestorer;
  const tools = {
    checked: () => Promise.resolve('/bin/pg_restore'),
    shuttingDown,
  } as unknown as PgProcessRunner;
  const counts: string[] = [];
  const metrics = {
    errors: { inc: (l: { type: string }) => counts.push(l.type) },
    backupLastVerified: { set: () => undefined },
    backupLastRestoreDuration: { set: (v: number) => counts.push(`rto ${v >= 0}`) },
  } as unknown as MetricsService;
  const verifier = new BackupVerifier(
    { database: 'db' } as ConnectionTarget,
    repo,
    archives,
    restorer,
    tools,
    metrics,
  );
  const row = { id: 'b1', encrypted: false } as BackupRow;
  return { verifier, row, recorded, counts };
}

describe('backup verifier', () => {
  it('succeeds, says where the archive came from and records the restore duration', async () => {
    const { verifier, row, recorded, counts } = setup(() => Promise.resolve());
    const result = await verifier.verify(row);
    expect(result).toMatchObject({
      status: 'succeeded',
      ok: true,
      source: 'offsite',
      archiveEntries: 7,
      tablesCompared: 3,
    });
    expect(result.restoreDurationMs).toBeGreaterThanOrEqual(0);
    expect(recorded).toEqual([{ result, ok: true }]);
    expect(counts).toEqual(['rto true']);
  });

  it('a failing restore is a failed verification, counted', async () => {
    const { verifier, row, counts } = setup(() => Promise.reject(new Error('bad archive')));
    const result = await verifier.verify(row);
    expect(result).toMatchObject({ status: 'failed', failedStep: 'restore', error: 'bad archive' });
    expect(counts).toEqual(['verify_restore']);
  });

  it('a restore stopped by shutdown is interrupted: no failed step, nothing counted', async () => {
    const { verifier, row, recorded, counts } = setup(() =>
      Promise.reject(new ShutdownInterrupt('pg_restore')),
    );
    const result = await verifier.verify(row);
    expect(result).toMatchObject({
      status: 'interrupted',
      ok: false,
      failedStep: null,
      steps: { list: 'ok', restore: 'interrupted' },
    });
    expect(recorded[0].ok).toBe(false);
    expect(counts).toEqual([]);
  });

  it('any error while the service is stopping is an interruption too', async () => {
    const { verifier, row } = setup(() => Promise.reject(new Error('connection terminated')), true);
    expect(await verifier.verify(row)).toMatchObject({ status: 'interrupted', failedStep: null });
  });
});
