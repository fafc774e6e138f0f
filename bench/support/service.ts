import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

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

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RunningService {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the real service in its own process (so the load generator does not share its event
 * loop), against `database`, and waits for readiness.
 */
export async function startService(
  database: string,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      JWT_SECRET: BENCH_JWT_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_HOST: benchServer.host,
      DB_PORT: String(benchServer.port),
      DB_USER: benchServer.user,
      DB_PASSWORD: benchServer.password,
      DB_NAME: database,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'trend-bench-')),
      JOBS_ENABLED: 'false',
      DEMO_DATA: 'false',
      SHUTDOWN_DELAY_MS: '0',
      THROTTLE_LIMIT: '100000000',
      THROTTLE_INGEST_LIMIT: '100000000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('service did not become ready');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export const BENCH_JWT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
