/**
 * npm run bench -- query [--seconds 5] [--rounds 3]
 *
 * Cached vs uncached latency (p50/p95/p99, one client, sequential) and requests/s (50
 * connections) of `top` and `series`, against the real service in its own process on a bench
 * database with the shared Redis; plus a bare node:http server's rate measured in the same run
 * (the ceiling), and the share of cached `top` answers the server itself timed under 1 ms (from
 * the api_response_time_seconds histogram, when the metrics endpoint exports it).
 * Uncached = `Cache-Control: no-cache` (the same request path, always answered by the database).
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import Redis from 'ioredis';
import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import { loadRate, startBareServer } from './support/bare-http';
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

/** Cumulative counts of the server's response-time histogram for one route, or null if not exported. */
async function serverHistogram(url: string, route: string): Promise<Map<string, number> | null> {
  try {
    const res = await fetch(`${url}/metrics`);
    if (!res.ok) return null;
    const counts = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      if (
        !line.startsWith('api_response_time_seconds_bucket') ||
        !line.includes(`route="${route}"`)
      )
        continue;
      if (!line.includes('status_code="200"')) continue;
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le) counts.set(le, (counts.get(le) ?? 0) + Number(line.split(' ').pop()));
    }
    return counts.size ? counts : null;
  } catch {
    return null;
  }
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
  let bare: { stop(): Promise<void> } | undefined;
  try {
    service = await startService(database, {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: '6379',
      REDIS_KEY_PREFIX: prefix,
    });
    const seeded = await seed(service.url, 100, 24 * 7);
    console.log(
      `seeded ${fmt(seeded)} observations (100 trends × 3 platforms × hourly, 7 days) through the ingest API`,
    );

    const auth = { authorization: `Bearer ${tokenFor(['analyst'])}` };
    const fresh = { ...auth, 'cache-control': 'no-cache' };
    const from = new Date(Math.floor(Date.now() / HOUR) * HOUR - 7 * 24 * HOUR).toISOString();
    const urls = {
      top: `${service.url}/api/v1/trends/top?window=24h`,
      series: `${service.url}/api/v1/trends/${encodeURIComponent('trend 0')}/series?interval=hour&from=${from}`,
    };
    const topBody = await (await fetch(urls.top, { headers: auth })).text();
    const bareServer = await startBareServer(topBody);
    bare = bareServer;
    console.log(
      `cached top answer: ${fmt(topBody.length)} bytes (the bare server returns the same bytes)`,
    );

    // Warm-up: JIT, pools, cache entries, database pages.
    await sequential(urls.top, auth, 300);
    await sequential(urls.series, auth, 300);
    await sequential(urls.top, fresh, 30);
    await sequential(urls.series, fresh, 30);
    await loadRate(bareServer.url, {}, 2);
    await loadRate(urls.top, auth, 2);

    type Row = { p50: number[]; p95: number[]; p99: number[]; rps: number[] };
    const rows: Record<string, Row> = {};
    const add = (name: string, samples: number[] | null, rps: number) => {
      const row = (rows[name] ??= { p50: [], p95: [], p99: [], rps: [] });
      if (samples) {
        row.p50.push(percentile(samples, 50));
        row.p95.push(percentile(samples, 95));
        row.p99.push(percentile(samples, 99));
      }
      row.rps.push(rps);
    };
    for (let round = 1; round <= rounds; round++) {
      add(
        'bare node:http',
        await sequential(bareServer.url, {}, 2000),
        (await loadRate(bareServer.url, {}, seconds)).rps,
      );
      add(
        'top cached',
        await sequential(urls.top, auth, 2000),
        (await loadRate(urls.top, auth, seconds)).rps,
      );
      add(
        'series cached',
        await sequential(urls.series, auth, 2000),
        (await loadRate(urls.series, auth, seconds)).rps,
      );
      add(
        'top uncached',
        await sequential(urls.top, fresh, 200),
        (await loadRate(urls.top, fresh, seconds, 8)).rps,
      );
      add(
        'series uncached',
        await sequential(urls.series, fresh, 200),
        (await loadRate(urls.series, fresh, seconds, 8)).rps,
      );
      console.log(`round ${round}/${rounds} done`);
    }
    // Server-side view of cached answers only: the histogram's change over a cached-only run.
    const before = await serverHistogram(service.url, '/api/v1/trends/top');
    await sequential(urls.top, auth, 2000);
    const after = await serverHistogram(service.url, '/api/v1/trends/top');

    console.log(
      `\nmedians of ${rounds} rounds; latency = one sequential client (ms, client-side, loopback);`,
    );
    console.log(`req/s = autocannon, ${seconds} s, 50 connections (uncached: 8)`);
    printTable(
      ['target', 'p50 ms', 'p95 ms', 'p99 ms', 'req/s'],
      Object.entries(rows).map(([name, r]) => [
        name,
        fmt(median(r.p50), 3),
        fmt(median(r.p95), 3),
        fmt(median(r.p99), 3),
        fmt(median(r.rps)),
      ]),
    );
    const bareRps = median(rows['bare node:http'].rps);
    const cachedTop = median(rows['top cached'].rps);
    console.log(
      `\ncached top rate / bare node:http rate = ${fmt(cachedTop / bareRps, 2)} (target ≥ 0.5)`,
    );
    console.log(
      `cached / uncached rate: top ${fmt(cachedTop / median(rows['top uncached'].rps), 1)}×, series ${fmt(median(rows['series cached'].rps) / median(rows['series uncached'].rps), 1)}×`,
    );
    if (before && after) {
      const delta = (le: string) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
      const total = delta('+Inf');
      console.log(
        `server-side (api_response_time_seconds, 2000 cached top answers): ≤0.5 ms ${fmt((100 * delta('0.0005')) / total, 1)}%, ≤1 ms ${fmt((100 * delta('0.001')) / total, 1)}% of ${fmt(total)}`,
      );
    } else {
      console.log(
        'server-side histogram not exported by /metrics in this build: see the client-side p50 above',
      );
    }
  } finally {
    await bare?.stop();
    await service?.stop();
    await dropBench(database, prefix);
  }
}
