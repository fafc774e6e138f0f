/**
 * npm run bench -- ingest
 * HTTP ingest of 1,000-row batches (1, 2 and 4 concurrent clients) against the raw COPY rate
 * into the same schema, measured in the same run on the same machine. Medians of 3 rounds.
 */
import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/config';
import { connectionTarget, dataSourceOptions } from '../src/database/data-source';
import { BENCH_JWT_SECRET, benchServer, recreateDatabase, startService } from './support/service';
import { fmt, median, printTable } from './support/stats';

const DATABASE = 'trend_bench_ingest';
const BATCH = 1000;
const BATCHES_PER_ROUND = 60;
const ROUNDS = 3;
const PLATFORMS = ['twitter', 'tiktok', 'instagram', 'reddit', 'youtube'];
const REGIONS = ['GLOBAL', 'US', 'GB', 'DE', 'BR', 'IN', 'JP', 'FR'];
// 5 platforms x 8 regions x 1,000 trend keys
const SERIES = 40_000;

let sequence = 0;
let snapshot = 0;
/**
 * Collector-like batches: each batch is a snapshot of distinct (platform, region, trend)
 * series at one time, as a scraper pushes them; keys repeat across batches, so the rollups
 * and the catalogue get upserted as in production.
 */
function observations(count: number) {
  const observedAt = new Date(Date.now() - 3_600_000 + (snapshot++ % 3000) * 1000).toISOString();
  return Array.from({ length: count }, () => {
    const n = sequence++;
    const series = n % SERIES;
    return {
      platform: PLATFORMS[series % PLATFORMS.length],
      region: REGIONS[Math.floor(series / PLATFORMS.length) % REGIONS.length],
      trendKey: `bench trend ${Math.floor(series / (PLATFORMS.length * REGIONS.length))}`,
      observedAt,
      mentions: n % 1000,
      engagement: n % 5000,
      sentiment: (n % 200) / 100 - 1,
    };
  });
}

async function migrate(): Promise<void> {
  const config = loadConfig({
    DB_HOST: benchServer.host,
    DB_PORT: String(benchServer.port),
    DB_USER: benchServer.user,
    DB_PASSWORD: benchServer.password,
    DB_NAME: DATABASE,
  });
  const ds = new DataSource(dataSourceOptions(config.db, connectionTarget(config.db)));
  await ds.initialize();
  await ds.runMigrations();
  await ds.destroy();
}

/** COPY of fresh rows into the table as it stands (no truncation: same state as HTTP ingest sees). */
async function copyRate(client: Client, rows: number): Promise<number> {
  const generated = Array.from({ length: Math.ceil(rows / BATCH) }, () =>
    observations(BATCH),
  ).flat();
  const lines = generated.map(
    (o) =>
      [
        o.platform,
        o.region,
        o.trendKey.toLowerCase(),
        o.trendKey,
        o.observedAt,
        o.mentions,
        o.engagement,
        o.sentiment,
      ].join('\t') + '\n',
  );
  const started = performance.now();
  await pipeline(
    Readable.from(lines),
    client.query(
      copyFrom(
        'COPY trend_observations (platform, region, trend_key, display_name, observed_at, mentions, engagement, sentiment) FROM STDIN',
      ),
    ),
  );
  return rows / ((performance.now() - started) / 1000);
}

async function httpRate(url: string, token: string, clients: number): Promise<number> {
  const bodies = Array.from({ length: BATCHES_PER_ROUND }, () =>
    JSON.stringify({ observations: observations(BATCH) }),
  );
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await fetch(`${url}/api/v1/trends/observations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body,
        });
        if (res.status !== 201)
          throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
        accepted += ((await res.json()) as { accepted: number }).accepted;
      }
    }),
  );
  if (accepted !== BATCH * BATCHES_PER_ROUND)
    throw new Error(`accepted ${accepted}, expected ${BATCH * BATCHES_PER_ROUND}`);
  return accepted / ((performance.now() - started) / 1000);
}

export async function run(): Promise<void> {
  await recreateDatabase(DATABASE);
  await migrate();
  const client = new Client({ ...benchServer, database: DATABASE });
  await client.connect();

  await copyRate(client, 20_000); // warm-up
  const copy = median(await sequential(ROUNDS, () => copyRate(client, BATCH * BATCHES_PER_ROUND)));
  await client.query(
    'TRUNCATE trend_observations, trend_rollups_hourly, trend_rollups_daily, trend_catalog',
  );

  const service = await startService(DATABASE);
  const token = sign({ sub: 'bench', roles: ['ingest'] }, BENCH_JWT_SECRET, {
    algorithm: 'HS256',
    expiresIn: 3600,
  });
  const rows: (string | number)[][] = [['raw COPY (no rollups)', fmt(copy), '1.00']];
  try {
    await httpRate(service.url, token, 2); // warm-up
    for (const clients of [1, 2, 4]) {
      const rate = median(await sequential(ROUNDS, () => httpRate(service.url, token, clients)));
      rows.push([
        `HTTP ingest, batches of ${BATCH}, ${clients} client(s)`,
        fmt(rate),
        (rate / copy).toFixed(2),
      ]);
    }
  } finally {
    await service.stop();
  }
  const [{ n }] = (await client.query('SELECT count(*)::int AS n FROM trend_observations'))
    .rows as { n: number }[];
  await client.end();
  console.log(
    `\nIngest throughput (medians of ${ROUNDS} rounds of ${fmt(BATCH * BATCHES_PER_ROUND)} rows; ${fmt(n)} rows stored)`,
  );
  printTable(['path', 'rows/s', 'ratio to COPY'], rows);
}

async function sequential(times: number, fn: () => Promise<number>): Promise<number[]> {
  const results: number[] = [];
  for (let i = 0; i < times; i++) results.push(await fn());
  return results;
}
