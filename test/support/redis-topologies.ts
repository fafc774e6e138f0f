import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../../src/common/free-port';

/** Throwaway Redis Cluster and Sentinel set-ups for the topology tests (stopped by PID). */

async function waitFor(check: () => Promise<boolean>, what: string, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function answers(port: number, ...command: string[]): Promise<string> {
  const client = new Redis({
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return String(await client.call(command[0], ...command.slice(1)));
  } finally {
    client.disconnect();
  }
}

class RedisProcesses {
  protected readonly dir = mkdtempSync(join(tmpdir(), 'trend-redis-'));
  protected readonly children = new Map<number, ChildProcess>();

  protected run(port: number, args: string[]): void {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        ...args,
      ],
      { stdio: 'ignore' },
    );
    this.children.set(port, child);
  }

  protected runConfig(port: number, config: string, mode: string[] = []): void {
    const file = join(this.dir, `redis-${port}.conf`);
    writeFileSync(file, config);
    const child = spawn('redis-server', [file, ...mode], { stdio: 'ignore' });
    this.children.set(port, child);
  }

  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    for (const port of this.children.keys()) await this.kill(port);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Three masters, no replicas, joined with `redis-cli --cluster create`. */
export class ThrowawayRedisCluster extends RedisProcesses {
  ports: number[] = [];

  async start(): Promise<void> {
    for (let i = 0; i < 3; i++) this.ports.push(await freePort());
    for (const port of this.ports) {
      this.run(port, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`]);
    }
    for (const port of this.ports)
      await waitFor(async () => (await answers(port, 'PING')) === 'PONG', `redis ${port}`);
    execFileSync(
      'redis-cli',
      ['--cluster', 'create', ...this.ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'],
      { stdio: 'pipe' },
    );
    for (const port of this.ports) {
      await waitFor(
        async () => (await answers(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
        `cluster state on ${port}`,
      );
    }
  }

  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }
}

/** A master, one replica and one Sentinel watching them (quorum 1, fast failover). */
export class ThrowawaySentinel extends RedisProcesses {
  readonly name = 'trendmaster';
  masterPort = 0;
  replicaPort = 0;
  sentinelPort = 0;

  async start(): Promise<void> {
    this.masterPort = await freePort();
    this.replicaPort = await freePort();
    this.sentinelPort = await freePort();
    this.run(this.masterPort, []);
    this.run(this.replicaPort, ['--replicaof', '127.0.0.1', String(this.masterPort)]);
    await waitFor(
      async () =>
        (await answers(this.replicaPort, 'INFO', 'replication')).includes('master_link_status:up'),
      'replica link',
    );
    this.runConfig(
      this.sentinelPort,
      [
        `port ${this.sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${this.name} 127.0.0.1 ${this.masterPort} 1`,
        `sentinel down-after-milliseconds ${this.name} 1000`,
        `sentinel failover-timeout ${this.name} 5000`,
        '',
      ].join('\n'),
      ['--sentinel'],
    );
    await waitFor(
      async () => (await answers(this.sentinelPort, 'SENTINEL', 'MASTERS')).length > 0,
      'sentinel',
    );
  }

  get sentinels(): string {
    return `127.0.0.1:${this.sentinelPort}`;
  }

  /** Kills the master and waits until Sentinel has promoted the replica. */
  async failover(): Promise<void> {
    await this.kill(this.masterPort);
    await waitFor(
      async () => (await answers(this.replicaPort, 'INFO', 'replication')).includes('role:master'),
      'promotion of the replica',
      400,
    );
  }
}
