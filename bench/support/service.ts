import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { ChildService, startChildService } from '../../test/support/child-service';

/** A PostgreSQL database created for one benchmark (on the local server, like the tests). */
export const benchServer = {
  host: process.env.BENCH_PG_HOST ?? '127.0.0.1',
  port: Number(process.env.BENCH_PG_PORT ?? 5432),
  user: process.env.BENCH_PG_USER ?? 'postgres',
  password: process.env.BENCH_PG_PASSWORD ?? '',
};

export async function recreateDatabase(name: string): Promise<void> {
  const admin = new Client({ ...benchServer, database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
}

export type RunningService = ChildService;

let built = false;

/**
 * Compiles the service once per benchmark run (`nest build` into dist/), so it runs as in
 * production: under ts-node it would carry the compiler, and ts-node's REPL module loads
 * node:domain, which wraps every EventEmitter in the process.
 */
function compiledEntry(): string {
  if (!built) {
    execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build'], {
      stdio: 'inherit',
    });
    built = true;
  }
  return 'dist/src/main.js';
}

/**
 * Starts the real service in its own process (so the load generator does not share its event
 * loop), in production mode against `database`, with rate limits out of the way.
 */
export function startService(
  database: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<RunningService> {
  const entry = compiledEntry();
  return startChildService(
    {
      NODE_ENV: 'production',
      JWT_SECRET: BENCH_JWT_SECRET,
      DB_HOST: benchServer.host,
      DB_PORT: String(benchServer.port),
      DB_USER: benchServer.user,
      DB_PASSWORD: benchServer.password,
      DB_NAME: database,
      THROTTLE_LIMIT: '100000000',
      THROTTLE_INGEST_LIMIT: '100000000',
      ...env,
    },
    { args: [...nodeArgs, entry] },
  );
}

export const BENCH_JWT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
