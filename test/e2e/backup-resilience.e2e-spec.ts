import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePgTool } from '../../src/backup/pg-tools';
import { ChildService, startChildService } from '../support/child-service';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

/**
 * A backup whose pg_dump cannot start, or whose snapshot session the server ends mid-dump,
 * fails that backup and nothing else. Run against the real process (src/main.ts): an
 * unhandled rejection or an unhandled 'error' event would end it, which an in-process app
 * inside Jest would not show faithfully.
 */
describe('backup failures do not take the process down', () => {
  let db: TestDatabase;
  let service: ChildService;
  let bin: string;
  const realPgDump = resolvePgTool('pg_dump');
  const auth = { Authorization: `Bearer ${tokenFor(['admin'])}` };

  /** PG_BIN_DIR/pg_dump is a script the test rewrites: each backup resolves and runs it anew. */
  const fakePgDump = (body: string) => {
    const path = join(bin, 'pg_dump');
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  };

  async function backup(): Promise<Record<string, unknown>> {
    const created = await fetch(`${service.url}/api/v1/admin/backups`, {
      method: 'POST',
      headers: auth,
    });
    expect(created.status).toBe(202);
    return (await created.json()) as { id: string } as Record<string, unknown>;
  }

  async function finished(id: unknown): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${service.url}/api/v1/admin/backups/${String(id)}`, {
        headers: auth,
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      if (body.status !== 'running') return body;
      if (Date.now() > deadline) throw new Error(`backup ${String(id)} still running`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function expectAlive(): Promise<void> {
    expect(service.process.exitCode).toBeNull();
    const live = await fetch(`${service.url}/health/live`);
    expect(live.status).toBe(200);
  }

  beforeAll(async () => {
    db = await createTestDatabase('backup_resilience');
    bin = mkdtempSync(join(tmpdir(), 'trend-fake-pg-bin-'));
    fakePgDump(`exec "${realPgDump}" "$@"`);
    service = await startChildService({
      ...db.env,
      JWT_SECRET: TEST_JWT_SECRET,
      PG_BIN_DIR: bin,
    });
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
    await db?.drop();
    rmSync(bin, { recursive: true, force: true });
  });

  it('pg_dump that cannot be executed (spawn EACCES): backup failed, process alive', async () => {
    // The version check passes, then the script makes itself non-executable (root too needs an
    // x bit), so the dump's spawn emits 'error' while the row counts are still running.
    fakePgDump(`chmod a-x "$0"\nexec "${realPgDump}" "$@"`);
    const { id } = await backup();
    const done = await finished(id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/^pg_dump could not run: spawn .*pg_dump EACCES$/);
    await expectAlive();
  });

  it('snapshot session terminated by the server mid-dump: backup failed, process alive', async () => {
    // pg_dump waits before starting, so the snapshot session sits idle in its transaction.
    fakePgDump(
      `if [ "$1" != --version ]; then sleep 5 </dev/null >/dev/null 2>&1; fi\nexec "${realPgDump}" "$@"`,
    );
    const { id } = await backup();
    let terminated = 0;
    const deadline = Date.now() + 10_000;
    while (terminated === 0 && Date.now() < deadline) {
      const rows = await db.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'trend-service-backup-snapshot'
           AND state = 'idle in transaction'`,
        [db.name],
      );
      terminated = rows.filter((r) => r.ok).length;
      if (terminated === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(terminated).toBe(1);
    const done = await finished(id);
    expect(done.status).toBe('failed');
    // Closed between two of its row counts, or after them while pg_dump still runs: either
    // way the backup names the lost snapshot session.
    expect(done.error).toMatch(
      /^(the snapshot session was closed during the dump|counting rows in the snapshot failed): /,
    );
    await expectAlive();
  });

  it('a later backup with a working pg_dump succeeds in the same process', async () => {
    fakePgDump(`exec "${realPgDump}" "$@"`);
    const { id } = await backup();
    expect((await finished(id)).status).toBe('succeeded');
  });
});
