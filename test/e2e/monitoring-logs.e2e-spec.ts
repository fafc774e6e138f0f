import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The service as `main.ts` runs it, in its own process, so the test reads the real log stream
 * (pino writes to file descriptor 1, out of reach of an in-process spy).
 */
describe('structured logs carry the request id', () => {
  let db: TestDatabase;
  let dataDir: string;
  let child: ChildProcess;
  let output = '';
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase('monitoring_logs');
    dataDir = mkdtempSync(join(tmpdir(), 'trend-logs-'));
    port = await freePort();
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      env: {
        ...process.env,
        ...db.env,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        JWT_SECRET: TEST_JWT_SECRET,
        DATA_DIR: dataDir,
        BACKUP_DIR: join(dataDir, 'backups'),
        JOBS_ENABLED: 'false',
        DEMO_DATA: 'false',
        SHUTDOWN_DELAY_MS: '0',
        TS_NODE_TRANSPILE_ONLY: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 90_000;
    while (!/"msg":"ready"/.test(output)) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`service did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);
  afterAll(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await db?.drop();
  });

  it('logs JSON lines whose req.id equals the X-Request-Id of the response, never the token', async () => {
    const token = tokenFor(['analyst']);
    const ok = await fetch(`http://127.0.0.1:${port}/api/v1/trends/top?window=1h`, {
      headers: { 'X-Request-Id': 'log-test-kept-1', Authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('log-test-kept-1');
    const denied = await fetch(`http://127.0.0.1:${port}/api/v1/trends/top?window=1h`);
    expect(denied.status).toBe(401);
    const generated = denied.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await denied.json()) as { requestId: string }).requestId).toBe(generated);
    await new Promise((r) => setTimeout(r, 300)); // let the log lines flush

    const lines = output.split('\n').filter((line) => line.trim());
    const entries = lines.map(
      (line) => JSON.parse(line) as { req?: { id?: string }; res?: { statusCode?: number } },
    );
    expect(entries.length).toBe(lines.length); // every line is JSON
    const byId = (id: string) => entries.filter((e) => e.req?.id === id);
    expect(byId('log-test-kept-1').map((e) => e.res?.statusCode)).toContain(200);
    expect(byId(generated!).map((e) => e.res?.statusCode)).toContain(401);
    expect(output).not.toContain(token);
    expect(output).not.toContain(TEST_JWT_SECRET);
  });
});
