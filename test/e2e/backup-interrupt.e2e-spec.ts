import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePgTool } from '../../src/backup/pg-tools';
import { ChildService, startChildService } from '../support/child-service';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Issue 10 item 5, against the real process: Ctrl-C in a terminal sends SIGINT to the whole
 * foreground process group. The pg tools run in their own group, so the signal reaches only
 * the service, which then stops them itself and records the verification as interrupted,
 * never as a failed verification of a good backup. The tools also never see the service's
 * secrets in their environment.
 */
describe('SIGINT to the service process group during a verify', () => {
  let db: TestDatabase;
  let service: ChildService | undefined;
  let bin: string;
  let backupDir: string;
  let backupId: string;
  const encryptionKey = randomBytes(32).toString('base64');
  const auth = { Authorization: `Bearer ${tokenFor(['admin'])}` };

  beforeAll(async () => {
    db = await createTestDatabase('backup_sigint');
    bin = mkdtempSync(join(tmpdir(), 'trend-sigint-bin-'));
    backupDir = mkdtempSync(join(tmpdir(), 'trend-sigint-backups-'));
    // Wrappers that record their environment and the signals they get; pg_restore's real
    // restore (not --list/--version) waits first, so the test can signal mid-verify.
    for (const tool of ['pg_dump', 'pg_restore', 'psql'] as const) {
      const real = resolvePgTool(tool);
      const log = join(bin, `${tool}.log`);
      const slow =
        tool === 'pg_restore'
          ? `case "$*" in *--list*|*--version*) ;; *) echo "restore $$" >> "${log}"; sleep 60 & wait $! ;; esac`
          : '';
      writeFileSync(
        join(bin, tool),
        [
          '#!/bin/bash',
          `trap 'echo "signal INT $$" >> "${log}"; exit 130' INT`,
          `trap 'echo "signal TERM $$" >> "${log}"; exit 143' TERM`,
          `env | sed 's/^/env /' >> "${log}"`,
          slow,
          `"${real}" "$@"`,
          '',
        ].join('\n'),
      );
      chmodSync(join(bin, tool), 0o755);
    }
  }, 30_000);
  afterAll(async () => {
    await service?.stop();
    await db?.drop();
    rmSync(bin, { recursive: true, force: true });
    rmSync(backupDir, { recursive: true, force: true });
  });

  it('children survive the group SIGINT, are stopped by the service, and the job is interrupted', async () => {
    service = await startChildService(
      {
        ...db.env,
        JWT_SECRET: TEST_JWT_SECRET,
        BACKUP_ENCRYPTION_KEY: encryptionKey,
        PG_BIN_DIR: bin,
        BACKUP_DIR: backupDir,
      },
      { detached: true },
    );
    const created = await fetch(`${service.url}/api/v1/admin/backups`, {
      method: 'POST',
      headers: auth,
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    backupId = id;
    let row: { status: string } | undefined;
    for (let i = 0; i < 300 && row?.status !== 'succeeded'; i++) {
      [row] = await db.query<{ status: string }>('SELECT status FROM backups WHERE id = $1', [id]);
      if (row?.status === 'failed') throw new Error('backup failed');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(row?.status).toBe('succeeded');

    const verify = await fetch(`${service.url}/api/v1/admin/backups/${id}/verify`, {
      method: 'POST',
      headers: auth,
    });
    expect(verify.status).toBe(202);
    expect(await verify.json()).toEqual({ id, source: 'local' });
    const restoreLog = join(bin, 'pg_restore.log');
    const restorePid = await until('pg_restore to start restoring', () => {
      const m = existsSync(restoreLog) && /^restore (\d+)$/m.exec(readFileSync(restoreLog, 'utf8'));
      return m ? Number(m[1]) : undefined;
    });
    expect(alive(restorePid)).toBe(true);

    // Ctrl-C: SIGINT to the service's whole process group.
    process.kill(-service.process.pid!, 'SIGINT');
    const code = await service.exited;
    expect(code).toBe(0);

    const log = readFileSync(restoreLog, 'utf8');
    expect(log).not.toMatch(/signal INT/);
    expect(log).toContain(`signal TERM ${restorePid}`);
    await until('pg_restore to be gone', () => (alive(restorePid) ? undefined : true), 10_000);

    const [backup] = await db.query<{
      status: string;
      verified_at: Date | null;
      verification: Record<string, unknown>;
    }>('SELECT status, verified_at, verification FROM backups WHERE id = $1', [id]);
    expect(backup.status).toBe('succeeded');
    expect(backup.verified_at).toBeNull();
    expect(backup.verification).toMatchObject({
      status: 'interrupted',
      ok: false,
      failedStep: null,
      steps: { list: 'ok', restore: 'interrupted' },
    });
    const runs = await db.query<{ status: string }>(
      "SELECT status FROM job_runs WHERE job = 'backup-verify'",
    );
    expect(runs).toEqual([{ status: 'interrupted' }]);

    // The tools saw PATH and libpq settings, never the service's secrets.
    for (const tool of ['pg_dump', 'pg_restore']) {
      const env = readFileSync(join(bin, `${tool}.log`), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('env '))
        .map((l) => l.slice(4).split('=')[0]);
      expect(env).toContain('PATH');
      expect(env).not.toContain('JWT_SECRET');
      expect(env).not.toContain('BACKUP_ENCRYPTION_KEY');
      expect(env).not.toContain('DB_PASSWORD');
      expect(env.filter((name) => !/^(PATH|LC_ALL|PG[A-Z_]+|PWD|SHLVL|_)$/.test(name))).toEqual([]);
    }
    await service.stop();
    service = undefined;
  }, 180_000);

  it('the CLI: Ctrl-C stops the tools through the CLI and the verify is interrupted, not failed', async () => {
    const restoreLog = join(bin, 'pg_restore.log');
    const seen = readFileSync(restoreLog, 'utf8').match(/^restore \d+$/gm)?.length ?? 0;
    const cli = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/backup/backup.cli.ts', 'verify', backupId],
      {
        env: {
          ...process.env,
          ...db.env,
          NODE_ENV: 'test',
          JWT_SECRET: TEST_JWT_SECRET,
          BACKUP_ENCRYPTION_KEY: encryptionKey,
          PG_BIN_DIR: bin,
          BACKUP_DIR: backupDir,
          DATA_DIR: backupDir,
          LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let stdout = '';
    cli.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    cli.stderr.on('data', () => undefined);
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    const restorePid = await until('the CLI’s pg_restore to start restoring', () => {
      const all = [...readFileSync(restoreLog, 'utf8').matchAll(/^restore (\d+)$/gm)];
      return all.length > seen ? Number(all[all.length - 1][1]) : undefined;
    });
    process.kill(-cli.pid!, 'SIGINT');
    expect(await exited).toBe(1);
    const log = readFileSync(restoreLog, 'utf8');
    expect(log).not.toMatch(/signal INT/);
    expect(log).toContain(`signal TERM ${restorePid}`);
    expect(JSON.parse(stdout)).toMatchObject({
      status: 'interrupted',
      ok: false,
      failedStep: null,
    });
    const [backup] = await db.query<{ verification: Record<string, unknown> }>(
      'SELECT verification FROM backups WHERE id = $1',
      [backupId],
    );
    expect(backup.verification).toMatchObject({ status: 'interrupted' });
  }, 120_000);
});
