import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../../src/common/free-port';
import { TestDatabase } from './database';

const execFileAsync = promisify(execFile);

/** Debian's PostgreSQL 15 server binaries (package postgresql-15). */
export const PG_BIN = process.env.TEST_PG_SERVER_BIN ?? '/usr/lib/postgresql/15/bin';

/** Runs a command as the `postgres` OS user (the server refuses to run as root). */
export function asPostgres(command: string, args: string[], timeoutMs = 120_000): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * The same without blocking the event loop: needed when the command talks to a server in this
 * process (s3rver), which a synchronous call would starve.
 */
export async function asPostgresAsync(
  command: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<string> {
  const { stdout } = await execFileAsync('runuser', ['-u', 'postgres', '--', command, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** A directory under the temp dir owned by `postgres`. */
export function postgresDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const { uid, gid } = postgresIds();
  chownSync(dir, uid, gid);
  return dir;
}

export function postgresIds(): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  };
}

/**
 * A throwaway PostgreSQL cluster on 127.0.0.1 and a free port (trust auth, user postgres),
 * for tests that need server settings the shared server must keep (archive_mode, …).
 * `stop()` stops it by its own data directory (pg_ctl reads its postmaster.pid).
 */
export interface TestCluster {
  port: number;
  dataDir: string;
  root: string;
  /** A TestDatabase-shaped handle on database `name` of this cluster (for startTestApp). */
  database(name: string): TestDatabase;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], db?: string): Promise<T[]>;
  start(): void;
  stop(): void;
  destroy(): void;
}

export async function startTestCluster(settings: Record<string, string>): Promise<TestCluster> {
  const root = postgresDir('trend-cluster-');
  const dataDir = join(root, 'data');
  const port = await freePort();
  asPostgres(join(PG_BIN, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const options = [
    `-c port=${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-c unix_socket_directories='${root}'`,
    '-c max_connections=20',
    '-c fsync=off',
    ...Object.entries(settings).map(([k, v]) => `-c ${k}='${v}'`),
  ].join(' ');
  const server = { host: '127.0.0.1', port, user: 'postgres', password: '' };
  const cluster: TestCluster = {
    port,
    dataDir,
    root,
    database: (name) =>
      ({
        name,
        server,
        env: {
          DB_HOST: '127.0.0.1',
          DB_PORT: String(port),
          DB_USER: 'postgres',
          DB_PASSWORD: '',
          DB_NAME: name,
          DB_MAX_CONNECTIONS: '4',
        },
        connect: async () => {
          const client = new Client({ ...server, database: name });
          await client.connect();
          return client;
        },
        query: (sql: string, params?: unknown[]) => cluster.query(sql, params, name),
        drop: () => Promise.resolve(),
      }) as TestDatabase,
    query: async <T>(sql: string, params: unknown[] = [], db = 'postgres') => {
      const client = new Client({ ...server, database: db });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
    start: () => {
      asPostgres(join(PG_BIN, 'pg_ctl'), [
        '-D',
        dataDir,
        '-o',
        options,
        '-l',
        join(root, 'server.log'),
        '-w',
        '-t',
        '60',
        'start',
      ]);
    },
    stop: () => {
      try {
        asPostgres(join(PG_BIN, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', '-t', '20', 'stop']);
      } catch {
        // Already stopped, or a shutdown held up (an archiver that cannot finish): immediate.
        try {
          asPostgres(join(PG_BIN, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
        } catch {
          // not running
        }
      }
    },
    destroy: () => {
      cluster.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  cluster.start();
  return cluster;
}
