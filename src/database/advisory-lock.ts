import { DataSource } from 'typeorm';

/**
 * Every Postgres advisory lock the service takes, in one place. Values are arbitrary but
 * fixed: they identify the lock across replicas.
 */
export enum AdvisoryLock {
  Migrations = 7_250_001,
  Partitions = 7_250_002,
  IndexMaintenance = 7_250_003,
  Backup = 7_250_004,
  DemoData = 7_250_005,
  BackupVerify = 7_250_021,
  BackupRestore = 7_250_022,
}

/**
 * Runs `fn` while holding a session-level advisory lock on a dedicated connection.
 * `wait: false` returns `{ acquired: false }` at once when another session holds it.
 * The lock is released in `finally`; if the connection broke, it is discarded rather than
 * returned to the pool (the server drops the lock with the session).
 */
export async function withAdvisoryLock<T>(
  dataSource: DataSource,
  lock: AdvisoryLock,
  fn: () => Promise<T>,
  options: { wait: boolean } = { wait: true },
): Promise<{ acquired: true; result: T } | { acquired: false }> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  let broken = false;
  try {
    if (options.wait) {
      await runner.query('SELECT pg_advisory_lock($1)', [lock]);
    } else {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS ok', [lock])) as {
        ok: boolean;
      }[];
      if (!row.ok) return { acquired: false };
    }
    try {
      return { acquired: true, result: await fn() };
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [lock]).catch(() => {
        broken = true;
      });
    }
  } finally {
    if (broken) {
      // TypeORM keeps this private; an error tells pg-pool to discard the connection.
      const discard = (
        runner as unknown as { releasePostgresConnection(err: Error): Promise<void> }
      ).releasePostgresConnection;
      await discard.call(runner, new Error('advisory lock connection broken'));
    } else {
      await runner.release();
    }
  }
}
