/**
 * npm run bench -- query [--seconds 5] [--rounds 3]
 *
 * Cached `top` (the 4 KB answer of issue 11) and `series` against the real service in its own
 * process (LOG_LEVEL=info, shared Redis), side by side with a bare node:http server serving the
 * same bytes and a bare server making one Redis round trip per request, in interleaved rounds:
 * requests/s and p50/p95/p99 at 50 connections, the two ratios, and the bytes of request log per
 * request. Uncached = `Cache-Control: no-cache` (always answered by the database).
 * BENCH_CPU_PROF_DIR=<dir> writes a CPU profile of the service there (node --cpu-prof).
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import Redis from 'ioredis';
import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import { cpuMs, loadRate, startBareServer } from './support/bare-http';
import {
  BENCH_JWT_SECRET,
  RunningService,
  benchServer,
  recreateDatabase,
  startService,
} from './support/service';
import { fmt, median, percentile, printTable } from './support/stats';

const HOUR = 3_600_000;

export const tokenFor = (roles: string[]) =>
  sign({ sub: 'bench', roles }, BENCH_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 });

export function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
}

/** Hourly observations of `keys` trends on 3 platforms over `hours` hours up to now, via the ingest API. */
export async function seed(url: string, keys: number, hours: number): Promise<number> {
  const ingest = tokenFor(['ingest']);
  const now = Date.now();
  const start = Math.floor(now / HOUR) * HOUR - (hours - 1) * HOUR;
  let batch: object[] = [];
  let total = 0;
  let random = 42;
  const next = () => (random = (random * 1103515245 + 12345) % 2147483648) / 2147483648;
  const flush = async () => {
    if (!batch.length) return;
    const res = await fetch(`${url}/api/v1/trends/observations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ingest}` },
      body: JSON.stringify({ observations: batch }),
    });
    if (res.status !== 201)
      throw new Error(`seed ingest answered ${res.status}: ${await res.text()}`);
    total += batch.length;
    batch = [];
  };
  for (let h = 0; h < hours; h++) {
    for (let k = 0; k < keys; k++) {
      for (const platform of ['x', 'tiktok', 'reddit']) {
        const observedAt = Math.min(start + h * HOUR + Math.floor(next() * HOUR), now - 1000);
        batch.push({
          platform,
          trendKey: `trend ${k}`,
          observedAt: new Date(observedAt).toISOString(),
          mentions: Math.floor(next() * 1000 * (1 + keys / (k + 1))),
          engagement: Math.floor(next() * 5000),
          sentiment: Math.round((next() * 2 - 1) * 100) / 100,
        });
        if (batch.length === 5000) await flush();
      }
    }
  }
  await flush();
  return total;
}

/** Latencies (ms) of `count` sequential requests on one keep-alive connection. */
export async function sequential(
  url: string,
  headers: Record<string, string>,
  count: number,
): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end();
    });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  agent.destroy();
  return samples;
}

export async function dropBench(database: string, prefix: string): Promise<void> {
  const admin = new Client({ ...benchServer, database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

export async function run(args: string[]): Promise<void> {
  const seconds = option(args, 'seconds', 5);
  const rounds = option(args, 'rounds', 3);
  const tag = randomBytes(3).toString('hex');
  const database = `trend_bench_query_${tag}`;
  const prefix = `bench:query:${tag}:`;
  await recreateDatabase(database);
  let service: RunningService | undefined;
  const servers: Array<{ stop(): Promise<void> }> = [];
  try {
    service = await startService(
      database,
      {
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: '6379',
        REDIS_KEY_PREFIX: prefix,
        // The production log level: the request log is part of what a request costs.
        LOG_LEVEL: 'info',
      },
      process.env.BENCH_CPU_PROF_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
        : [],
    );
    const seeded = await seed(service.url, 100, 24 * 7);
    console.log(
      `seeded ${fmt(seeded)} observations (100 trends × 3 platforms × hourly, 7 days) through the ingest API`,
    );

    const auth = { authorization: `Bearer ${tokenFor(['analyst'])}` };
    const fresh = { ...auth, 'cache-control': 'no-cache' };
    const hour = new Date(Math.floor(Date.now() / HOUR) * HOUR).toISOString();
    const from = new Date(Math.floor(Date.now() / HOUR) * HOUR - 7 * 24 * HOUR).toISOString();
    const urls = {
      top: `${service.url}/api/v1/trends/top?window=24h&limit=20&at=${hour}`,
      series: `${service.url}/api/v1/trends/${encodeURIComponent('trend 0')}/series?interval=hour&from=${from}`,
    };
    const topBody = await (await fetch(urls.top, { headers: auth })).text();
    const bare = await startBareServer(topBody);
    servers.push(bare);
    const bareRedis = await startBareServer(topBody, {
      host: '127.0.0.1',
      port: 6379,
      key: `${prefix}bare`,
    });
    servers.push(bareRedis);
    console.log(
      `cached top answer: ${fmt(topBody.length)} bytes (the bare servers return the same bytes)`,
    );

    // Warm-up: JIT, pools, cache entries, database pages.
    await sequential(urls.top, auth, 300);
    await sequential(urls.series, auth, 300);
    await sequential(urls.top, fresh, 30);
    await sequential(urls.series, fresh, 30);
    await loadRate(bare.url, {}, 2);
    await loadRate(bareRedis.url, {}, 2);
    await loadRate(urls.top, auth, 2);

    type Row = {
      p50: number[];
      p95: number[];
      p99: number[];
      rps: number[];
      logBytes: number[];
      cpu: number[];
    };
    const rows: Record<string, Row> = {};
    const running = service;
    const measure = async (
      name: string,
      url: string,
      headers: Record<string, string>,
      pid: number,
      connections = 50,
    ) => {
      const logBefore = Buffer.byteLength(running.output());
      const cpuBefore = cpuMs(pid);
      const result = await loadRate(url, headers, seconds, connections);
      const cpuAfter = cpuMs(pid);
      if (result.errors || result.non2xx)
        throw new Error(`${name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
      await new Promise((r) => setTimeout(r, 200)); // let the log flush
      const row = (rows[name] ??= { p50: [], p95: [], p99: [], rps: [], logBytes: [], cpu: [] });
      if (cpuBefore !== null && cpuAfter !== null)
        row.cpu.push(((cpuAfter - cpuBefore) * 1000) / result.total);
      row.p50.push(result.p50);
      row.p95.push(result.p95);
      row.p99.push(result.p99);
      row.rps.push(result.rps);
      row.logBytes.push((Buffer.byteLength(running.output()) - logBefore) / result.total);
    };
    // Interleaved rounds: the machine is shared, so each round measures every target under
    // roughly the same background load.
    for (let round = 1; round <= rounds; round++) {
      const pid = running.process.pid ?? 0;
      await measure('bare node:http', bare.url, {}, bare.pid);
      await measure('bare + 1 Redis round trip', bareRedis.url, {}, bareRedis.pid);
      await measure('top cached', urls.top, auth, pid);
      await measure('series cached', urls.series, auth, pid);
      await measure('top uncached', urls.top, fresh, pid, 8);
      console.log(`round ${round}/${rounds} done`);
    }
    const sequentialTop = await sequential(urls.top, auth, 2000);

    console.log(
      `\nmedians of ${rounds} interleaved rounds; autocannon ${seconds} s, 50 connections (uncached: 8);`,
    );
    console.log(
      'latency client-side over loopback; CPU = server process CPU time per request; log = bytes the service logged per request',
    );
    printTable(
      ['target', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU µs/req', 'log B/req'],
      Object.entries(rows).map(([name, r]) => [
        name,
        fmt(median(r.rps)),
        fmt(median(r.p50), 2),
        fmt(median(r.p95), 2),
        fmt(median(r.p99), 2),
        r.cpu.length ? fmt(median(r.cpu), 0) : '-',
        name.startsWith('bare') ? '-' : fmt(median(r.logBytes), 0),
      ]),
    );
    const ratio = (a: string, b: string) => median(rows[a].rps) / median(rows[b].rps);
    console.log(
      `\ncached top / bare node:http                 = ${fmt(ratio('top cached', 'bare node:http'), 2)}`,
    );
    console.log(
      `cached top / bare + 1 Redis round trip      = ${fmt(ratio('top cached', 'bare + 1 Redis round trip'), 2)} (target ≥ 0.5)`,
    );
    console.log(
      `cached / uncached top                       = ${fmt(ratio('top cached', 'top uncached'), 1)}×`,
    );
    const cpu = (name: string) => median(rows[name].cpu);
    console.log(
      `CPU per request, bare + 1 Redis round trip / cached top = ${fmt(cpu('bare + 1 Redis round trip') / cpu('top cached'), 2)} (the rate ratio on a dedicated core)`,
    );
    console.log(
      `cached top, one sequential client: p50 ${fmt(percentile(sequentialTop, 50), 3)} ms, p99 ${fmt(percentile(sequentialTop, 99), 3)} ms`,
    );
    console.log(
      `per-round req/s: ${JSON.stringify(Object.fromEntries(Object.entries(rows).map(([n, r]) => [n, r.rps.map((x) => Math.round(x))])))}`,
    );
  } finally {
    for (const server of servers) await server.stop();
    await service?.stop();
    await dropBench(database, prefix);
  }
}
