import { ChildProcess, spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { freePort } from '../../src/common/free-port';
import { percentile } from './stats';

/**
 * A bare `node:http` server in its own process answering every request with `body`: the
 * machine's ceiling for an HTTP JSON answer, measured in the same run as the service.
 * With `redis`, each request first makes one Redis round trip (a GET of a small key, as an
 * exact cache reads its version token): the floor for an exact cache shared by replicas.
 */
export async function startBareServer(
  body: string,
  redis?: { host: string; port: number; key: string },
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const source = redis
    ? `
    const body = Buffer.from(process.env.BARE_BODY);
    const Redis = require('ioredis');
    const client = new Redis({ host: ${JSON.stringify(redis.host)}, port: ${redis.port} });
    const key = ${JSON.stringify(redis.key)};
    client.set(key, 'token', 'EX', 3600).then(() => {
      require('node:http').createServer((req, res) => {
        client.get(key).then((token) => {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length, 'x-token': token });
          res.end(body);
        }, () => { res.writeHead(503); res.end(); });
      }).listen(${port}, '127.0.0.1', () => process.send && process.send('up'));
    });
    process.on('SIGTERM', () => { client.del(key).finally(() => process.exit(0)); });`
    : `
    const body = Buffer.from(process.env.BARE_BODY);
    require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    }).listen(${port}, '127.0.0.1', () => process.send && process.send('up'));`;
  const child: ChildProcess = spawn(process.execPath, ['-e', source], {
    env: { ...process.env, BARE_BODY: body },
    cwd: process.cwd(),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Requests/s and latency percentiles (ms) of `url` under `connections` concurrent keep-alive
 * clients. Percentiles come from every 2xx response's own latency (autocannon's summary rounds
 * to whole milliseconds and has no p95).
 */
export async function loadRate(
  url: string,
  headers: Record<string, string> = {},
  seconds = 5,
  connections = 50,
): Promise<{
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: seconds, headers }, (error, done) =>
      error ? reject(error as Error) : resolve(done),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  return {
    rps: result.requests.average,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors: result.errors,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux): CPU per request
 * is steadier than requests/s on a machine shared with other work. null where unavailable.
 */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second here).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}
