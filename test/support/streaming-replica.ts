import { execFile } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../../src/common/free-port';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 binaries (package postgresql-15; see .ci/run). */
export const PG_BIN = process.env.TEST_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/** Runs a PostgreSQL binary as the `postgres` user (initdb refuses to run as root). */
async function asPostgres(binary: string, args: string[]): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', join(PG_BIN, binary), ...args], {
    timeout: 60_000,
  });
  return stdout;
}

async function uidOf(user: string): Promise<{ uid: number; gid: number }> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    run('id', ['-u', user]),
    run('id', ['-g', user]),
  ]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** One throwaway server of the pair; stopped by the PID in its postmaster.pid. */
class Server {
  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly port: number,
    private readonly logFile: string,
  ) {}

  get pid(): number | null {
    const file = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(file)) return null;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  async start(): Promise<void> {
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '30', 'start']);
  }

  /** Fast shutdown (SIGINT to the postmaster), waiting until the process is gone. */
  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === null) return;
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      return; // already gone
    }
    for (let i = 0; i < 300; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(pid, 'SIGKILL');
  }

  /**
   * SIGSTOP (freeze) or SIGCONT (thaw) to the postmaster and all its children: a server that
   * hangs with its connections open, as behind a network partition.
   */
  async signalAll(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const pid = this.pid;
    if (pid === null) return;
    const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(pid)]);
    const children = stdout
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
    for (const target of [pid, ...children]) {
      try {
        process.kill(target, signal);
      } catch {
        // a child that just exited
      }
    }
  }

  /** Appends settings to postgresql.conf and reloads (SIGHUP to the postmaster). */
  reconfigure(lines: string[]): void {
    appendFileSync(join(this.dataDir, 'postgresql.conf'), lines.map((l) => `${l}\n`).join(''));
    const pid = this.pid;
    if (pid !== null) process.kill(pid, 'SIGHUP');
  }

  client(database = 'postgres'): Client {
    return new Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database });
  }

  async query<T = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    database = 'postgres',
  ): Promise<T[]> {
    const client = this.client(database);
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }
}

/**
 * A real primary and a streaming hot-standby replica on free ports, in a temporary directory,
 * for the read-replica tests: initdb with wal_level=replica and a `host replication` trust
 * line, pg_basebackup -R from the primary, both started with pg_ctl. stop() removes both.
 */
export class StreamingPair {
  private constructor(
    private readonly root: string,
    readonly primary: Server,
    readonly replica: Server,
  ) {}

  static available(): boolean {
    return existsSync(join(PG_BIN, 'pg_basebackup')) && existsSync(join(PG_BIN, 'initdb'));
  }

  static async start(): Promise<StreamingPair> {
    const root = mkdtempSync(join(tmpdir(), 'trend-replica-'));
    const owner = await uidOf('postgres');
    chownSync(root, owner.uid, owner.gid);
    const [primaryPort, replicaPort] = [await freePort(), await freePort()];
    const primary = new Server(
      'primary',
      join(root, 'primary'),
      primaryPort,
      join(root, 'primary.log'),
    );
    const replica = new Server(
      'replica',
      join(root, 'replica'),
      replicaPort,
      join(root, 'replica.log'),
    );
    const pair = new StreamingPair(root, primary, replica);
    try {
      await asPostgres('initdb', [
        '-D',
        primary.dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
      ]);
      appendFileSync(
        join(primary.dataDir, 'postgresql.conf'),
        [
          `port = ${primaryPort}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${root}'`,
          'wal_level = replica',
          'max_wal_senders = 4',
          'max_connections = 40',
          'shared_buffers = 16MB',
          'fsync = off', // a throwaway cluster: speed over durability
          'hot_standby = on',
          '',
        ].join('\n'),
      );
      appendFileSync(
        join(primary.dataDir, 'pg_hba.conf'),
        'host replication all 127.0.0.1/32 trust\n',
      );
      await primary.start();
      await asPostgres('pg_basebackup', [
        '-h',
        '127.0.0.1',
        '-p',
        String(primaryPort),
        '-U',
        'postgres',
        '-D',
        replica.dataDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
      ]);
      appendFileSync(join(replica.dataDir, 'postgresql.conf'), `port = ${replicaPort}\n`);
      await replica.start();
      return pair;
    } catch (error) {
      await pair.stop();
      throw error;
    }
  }

  /** Waits (bounded) until the replica has replayed everything the primary wrote so far. */
  async caughtUp(timeoutMs = 15_000): Promise<void> {
    const [{ lsn }] = await this.primary.query<{ lsn: string }>(
      'SELECT pg_current_wal_insert_lsn()::text AS lsn',
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [{ done }] = await this.replica.query<{ done: boolean }>(
        'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done',
        [lsn],
      );
      if (done) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`replica did not replay up to ${lsn} within ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    await this.replica.stop();
    await this.primary.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}
