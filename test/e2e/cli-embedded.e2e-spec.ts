import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildService } from '../support/child-service';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET } from '../support/tokens';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI as `npm run <name>` does (ts-node, transpile only), without npm's own output. */
function runCli(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', file, ...args],
      { env: { ...process.env, NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const CLIS: [string, string, RegExp][] = [
  ['token', 'src/auth/token.cli.ts', /^usage: npm run token -- --sub NAME/],
  ['jobs', 'src/jobs/jobs.cli.ts', /^usage: npm run jobs -- run partitions/],
  ['db:seed', 'src/trends/demo/seed.cli.ts', /^usage: npm run db:seed -- \[--days N\]/],
  ['backup', 'src/backup/backup.cli.ts', /^usage: npm run backup -- create/],
];

// Lines Nest writes while it starts (ConsoleLogger): "[Nest] 123 - … LOG [InstanceLoader] …".
const FRAMEWORK_LOG = /\[Nest\]|InstanceLoader|NestFactory|Starting Nest application/;

/** Issue 10 item 8: CLIs answer --help, stay quiet; the embedded database keeps its port. */
describe('CLIs', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('cli');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each(CLIS)('npm run %s -- --help prints its usage on stdout and exits 0', async (...c) => {
    const [, file, usage] = c;
    // -h too, for the one CLI that starts fast (each of the others compiles the whole app).
    for (const flag of file.includes('token') ? ['--help', '-h'] : ['--help']) {
      // Even with other arguments and no database: help needs neither.
      const run = await runCli(file, ['list', flag], { DB_HOST: '127.0.0.1', DB_PORT: '1' });
      expect({ flag, code: run.code, stderr: run.stderr }).toEqual({ flag, code: 0, stderr: '' });
      expect(run.stdout).toMatch(usage);
    }
  });

  it('jobs list prints only its JSON result; LOG_LEVEL=debug adds the framework logs', async () => {
    const env = { ...db.env, DB_MAX_CONNECTIONS: '2', DATA_DIR: mkdtempSync(join(tmpdir(), 'c-')) };
    const quiet = await runCli('src/jobs/jobs.cli.ts', ['list'], env);
    expect(quiet.code).toBe(0);
    expect(JSON.parse(quiet.stdout)).toEqual(expect.any(Array));
    expect(quiet.stderr).not.toMatch(FRAMEWORK_LOG);

    const debug = await runCli('src/jobs/jobs.cli.ts', ['list'], { ...env, LOG_LEVEL: 'debug' });
    expect(debug.code).toBe(0);
    expect(debug.stdout + debug.stderr).toMatch(FRAMEWORK_LOG);
    rmSync(env.DATA_DIR, { recursive: true, force: true });
  });

  it('backup list prints no framework logs either', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'c-'));
    const run = await runCli('src/backup/backup.cli.ts', ['list'], {
      ...db.env,
      DB_MAX_CONNECTIONS: '2',
      DATA_DIR: dataDir,
      BACKUP_DIR: join(dataDir, 'backups'),
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(expect.anything());
    expect(run.stdout + run.stderr).not.toMatch(FRAMEWORK_LOG);
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('embedded PostgreSQL keeps its port across restarts', () => {
  let dataDir: string;
  let blocker: Server | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'trend-embedded-'));
    chmodSync(dataDir, 0o755); // the server runs as the postgres OS user when we are root
  });
  afterAll(async () => {
    await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts the real service on the embedded database, returns the port its banner names. */
  const startAndStop = async (): Promise<number> => {
    const service = await startChildService({
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: dataDir,
      BACKUP_DIR: join(dataDir, 'backups'),
      LOG_LEVEL: 'info', // the banner is an info line
    });
    const banner = /database: embedded PostgreSQL on 127\.0\.0\.1:(\d+)/.exec(service.output());
    expect(await service.stop()).toBe(0);
    expect(banner).not.toBeNull();
    return Number(banner![1]);
  };

  it('the banner names the port, the next start reuses it, a taken port is replaced', async () => {
    const first = await startAndStop();
    expect(readFileSync(join(dataDir, 'pg-port'), 'utf8').trim()).toBe(String(first));
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false); // stopped with us

    expect(await startAndStop()).toBe(first);

    // Another program took the port meanwhile: a new one is chosen and remembered.
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(first, '127.0.0.1', () => r()));
    const third = await startAndStop();
    expect(third).not.toBe(first);
    expect(readFileSync(join(dataDir, 'pg-port'), 'utf8').trim()).toBe(String(third));
  });
});
