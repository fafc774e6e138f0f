import { readFileSync } from 'node:fs';
import { Client, ClientConfig } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig, DatabaseConfig } from '../config/config';
import { EmbeddedServer, startEmbeddedPostgres } from './embedded-postgres';
import { ENTITIES } from './entities';
import { quoteIdent } from './identifiers';
import { MIGRATIONS } from './migrations';
import { SlowQueryLogger } from './slow-query.logger';

/** Where to connect: explicit settings, or the embedded server once it runs. */
export interface ConnectionTarget {
  url?: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  ssl: TlsMode;
  caFile?: string;
}

/**
 * TLS to PostgreSQL, with libpq's sslmode meanings: `require` encrypts without checking the
 * certificate, `verify-ca`/`verify-full` also verify it (against DB_SSL_CA or the system CAs).
 */
export type TlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

function tlsMode(db: DatabaseConfig, urlMode: string | null): TlsMode {
  if (urlMode === 'require' || urlMode === 'verify-ca' || urlMode === 'verify-full') return urlMode;
  return db.ssl ? 'verify-full' : 'disable';
}

/** node-postgres `ssl` option for a TLS mode. */
export function tlsOptions(
  mode: TlsMode,
  caFile?: string,
): false | { rejectUnauthorized: boolean; ca?: string; checkServerIdentity?: () => undefined } {
  if (mode === 'disable') return false;
  if (mode === 'require') return { rejectUnauthorized: false };
  return {
    rejectUnauthorized: true,
    ca: caFile ? readFileSync(caFile, 'utf8') : undefined,
    // verify-ca checks the chain but not the host name
    checkServerIdentity: mode === 'verify-ca' ? () => undefined : undefined,
  };
}

export function connectionTarget(db: DatabaseConfig, embedded?: EmbeddedServer): ConnectionTarget {
  if (embedded) {
    const { host, port, user, password } = embedded;
    return { host, port, user, password, database: db.name, ssl: 'disable' };
  }
  if (db.url) {
    const url = new URL(db.url);
    return {
      url: db.url,
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.replace(/^\//, '') || db.name,
      ssl: tlsMode(db, url.searchParams.get('sslmode')),
      caFile: db.sslCaFile,
    };
  }
  return {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.name,
    ssl: tlsMode(db, null),
    caFile: db.sslCaFile,
  };
}

export function pgClientConfig(target: ConnectionTarget, database = target.database): ClientConfig {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database,
    ssl: tlsOptions(target.ssl, target.caFile),
  };
}

/**
 * The TypeORM options used by the app, the CLI (ormconfig.ts) and the tests. The app passes
 * its slow-query logger; the CLIs keep TypeORM's console logger, which prints what
 * `migration:show`/`migration:run` report.
 */
export function dataSourceOptions(
  db: DatabaseConfig,
  target: ConnectionTarget,
  slowQueryLogger?: SlowQueryLogger,
): DataSourceOptions {
  return {
    type: 'postgres',
    host: target.host,
    port: target.port,
    username: target.user,
    password: target.password,
    database: target.database,
    ssl: tlsOptions(target.ssl, target.caFile),
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    installExtensions: false,
    applicationName: 'trend-service',
    ...(slowQueryLogger && db.slowQueryMs > 0
      ? { maxQueryExecutionTime: db.slowQueryMs, logger: slowQueryLogger }
      : {}),
    extra: {
      max: db.poolMax,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      // Applied by the server to every pooled session.
      options:
        db.statementTimeoutMs > 0 ? `-c statement_timeout=${db.statementTimeoutMs}` : undefined,
    },
  };
}

/**
 * Creates the database when the server is reachable but the database is not there yet. The
 * target database is tried first, so a role that may not connect to `postgres` (managed
 * services) starts fine when its database exists.
 */
export async function ensureDatabaseExists(target: ConnectionTarget): Promise<void> {
  const probe = new Client(pgClientConfig(target));
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error; // only "database does not exist"
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new Client(pgClientConfig(target, 'postgres'));
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(target.database)}`);
  } catch (error) {
    // Another replica may have created it in the meantime.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
}

/**
 * Resolves where the database is, starting the embedded server when none is configured.
 * Used by ormconfig.ts (the TypeORM CLI) and the CLIs; the app uses DatabaseModule.
 */
export async function resolveDataSource(
  config: AppConfig,
): Promise<{ dataSource: DataSource; embedded?: EmbeddedServer }> {
  const embedded =
    config.db.mode === 'embedded' ? await startEmbeddedPostgres(config.dataDir) : undefined;
  const target = connectionTarget(config.db, embedded);
  await ensureDatabaseExists(target);
  return { dataSource: new DataSource(dataSourceOptions(config.db, target)), embedded };
}
