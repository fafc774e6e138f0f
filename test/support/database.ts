import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { TestServer, testServer } from './postgres';

/** A fresh database for one test file, dropped again in afterAll. */
export interface TestDatabase {
  name: string;
  server: TestServer;
  /** DB_* variables pointing the service at this database. */
  env: Record<string, string>;
  /** A new connected client on this database (caller ends it). */
  connect(): Promise<Client>;
  /** One-off query on this database. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

async function onAdmin<T>(server: TestServer, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ ...server, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const server = testServer();
  // The creation time in the name lets global-setup sweep databases of runs that were killed.
  const name = `trend_test_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 24)}_${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
  await onAdmin(server, (c) => c.query(`CREATE DATABASE "${name}"`));
  const connect = async () => {
    const client = new Client({ ...server, database: name });
    await client.connect();
    return client;
  };
  return {
    name,
    server,
    env: {
      DB_HOST: server.host,
      DB_PORT: String(server.port),
      DB_USER: server.user,
      DB_PASSWORD: server.password,
      DB_NAME: name,
    },
    connect,
    async query<T>(sql: string, params?: unknown[]) {
      const client = await connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
    drop: () =>
      onAdmin(server, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

const STALE_AFTER_SECONDS = 6 * 3600;

/**
 * Drops test databases left behind by runs that were killed before their afterAll, including
 * databases a test derived from its own name (restore targets).
 */
export async function sweepStaleTestDatabases(
  server: TestServer = testServer(),
): Promise<string[]> {
  return onAdmin(server, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'trend\\_test\\_%'`,
    );
    const cutoff = Date.now() / 1000 - STALE_AFTER_SECONDS;
    const stale = rows
      .map((r) => r.datname)
      .filter((name) => Number(/^trend_test_.*?_(\d{10})_/.exec(name)?.[1] ?? Infinity) < cutoff);
    for (const name of stale) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    return stale;
  });
}
