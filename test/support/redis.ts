import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { freePort } from '../../src/common/free-port';

export { freePort };

/** Helpers for the cache and throttle e2e tests: key prefixes, cleanup, throwaway redis-servers. */

export const SHARED_REDIS = { REDIS_HOST: '127.0.0.1', REDIS_PORT: '6379' };

export const testPrefix = (file: string): string =>
  `test:${file}:${randomBytes(4).toString('hex')}:`;

/** Deletes every key under `prefix` (SCAN + UNLINK, like the service). */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await client.unlink(...keys);
  } while (cursor !== '0');
}

/** A throwaway redis-server (no persistence) on `port`; stop() kills it by PID. */
export class ThrowawayRedis {
  private process?: ChildProcess;

  /** With `dataDir`, the server keeps its data in an RDB file there (see shutdownSaving). */
  constructor(
    readonly port: number,
    private readonly dataDir?: string,
  ) {}

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        ...(this.dataDir ? ['--dir', this.dataDir, '--dbfilename', 'dump.rdb'] : []),
      ],
      {
        stdio: 'ignore',
      },
    );
    this.process = child;
    const client = new Redis({
      port: this.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        await client.connect();
        await client.ping();
        client.disconnect();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    client.disconnect();
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  /** SIGSTOP: the server keeps its connections but answers nothing (a hung Redis). */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  /** SIGCONT: a frozen server carries on, answering what was sent meanwhile. */
  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  /** SHUTDOWN SAVE: stops the server with its data written, as a persistent Redis would restart. */
  async shutdownSaving(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const client = new Redis({
      port: this.port,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    await client.call('SHUTDOWN', 'SAVE').catch(() => undefined); // the connection closes
    client.disconnect();
    await exited;
    this.process = undefined;
  }
}
