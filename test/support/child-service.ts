import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/common/free-port';

/** The service as `main.ts` runs it, in its own process (signals, exit codes, stdout logs). */
export interface ChildService {
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** SIGTERM (unless already gone), wait for exit, remove the data directory. */
  stop(): Promise<number | null>;
}

/**
 * `detached: true` puts the service in its own process group, like a shell's foreground job,
 * so a test can signal the whole group as a terminal's Ctrl-C does (`process.kill(-pid)`).
 * `args` are node's arguments: by default the TypeScript sources through ts-node; a benchmark
 * passes the compiled entry point (and e.g. `--cpu-prof`), as production runs it.
 */
export async function startChildService(
  env: Record<string, string>,
  options: { detached?: boolean; args?: string[] } = {},
): Promise<ChildService> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'trend-child-'));
  const args = options.args ?? ['-r', 'ts-node/register/transpile-only', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      BACKUP_DIR: join(dataDir, 'backups'),
      JOBS_ENABLED: 'false',
      DEMO_DATA: 'false',
      SHUTDOWN_DELAY_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached === true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  const service: ChildService = {
    url,
    port,
    process: child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`service exited with ${child.exitCode}:\n${output}`);
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return service;
    if (Date.now() > deadline) {
      await service.stop();
      throw new Error(`service did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
