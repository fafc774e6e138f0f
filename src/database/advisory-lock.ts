import { Client, ClientConfig } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';

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
  Alerts = 7_250_030,
  CacheWarm = 7_250_040,
}

/**
 * Runs `fn` while holding a session-level advisory lock. The lock lives on its own short-lived
 * connection, outside the pool: a long job (a dump, a relocation) then pins no pooled
 * connection, waiting for the lock is not cut short by the pool's statement_timeout, and if
 * this process dies the server drops the lock with the session. `wait: false` returns
 * `{ acquired: false }` at once when another session holds the lock.
 */
export async function withAdvisoryLock<T>(
  dataSource: DataSource,
  lock: AdvisoryLock,
  fn: () => Promise<T>,
  options: { wait: boolean } = { wait: true },
): Promise<{ acquired: true; result: T } | { acquired: false }> {
  const { host, port, username, password, database, ssl } = dataSource.options as Extract<
    DataSourceOptions,
    { type: 'postgres' }
  >;
  const client = new Client({
    host,
    port,
    user: username,
    password: typeof password === 'string' ? password : undefined,
    database,
    ssl: ssl as ClientConfig['ssl'],
    application_name: 'trend-service:lock',
  });
  // A dropped connection must not crash the process; the lock is gone with it anyway.
  client.on('error', () => undefined);
  await client.connect();
  try {
    if (options.wait) {
      await client.query('SELECT pg_advisory_lock($1)', [lock]);
    } else {
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS ok',
        [lock],
      );
      if (!rows[0].ok) return { acquired: false };
    }
    return { acquired: true, result: await fn() };
  } finally {
    // Closing the session releases the lock, also when fn failed.
    await client.end().catch(() => undefined);
  }
}
