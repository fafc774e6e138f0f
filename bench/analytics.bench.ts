/**
 * npm run bench -- analytics [--sizes=1m,10m] [--runs=20] [--raw-runs=5] [--load-only]
 *
 * Uncached latency of top / overview / movers / platforms over 24h, 7d and 30d windows
 * (unfiltered: all platforms and regions), read from the rollups as the API does, next to the
 * same aggregate over raw observations in the same run. Data sets: bench/support/dataset.ts
 * (databases trend_bench_1m / trend_bench_10m, built on first use and reused).
 */
import { DataSource } from 'typeorm';
import { AnalyticsRepository } from '../src/analytics/analytics.repository';
import { AnalyticsService } from '../src/analytics/analytics.service';
import {
  MoversQueryDto,
  OverviewQueryDto,
  PlatformsQueryDto,
} from '../src/analytics/dto/analytics-query.dto';
import { DAY, HOUR, TimeRange } from '../src/common/time-window';
import { AppConfig, loadConfig } from '../src/config/config';
import { connectionTarget, dataSourceOptions } from '../src/database/data-source';
import { ReadReplicasService } from '../src/database/read-replicas.service';
import { MetricsService } from '../src/monitoring/metrics/metrics.service';
import { TopQueryDto } from '../src/trends/dto/query.dto';
import { TrendsRepository } from '../src/trends/trends.repository';
import { TrendsService } from '../src/trends/trends.service';
import { DatasetInfo, ensureDataset } from './support/dataset';

const WINDOWS: [string, number][] = [
  ['24h', DAY],
  ['7d', 7 * DAY],
  ['30d', 30 * DAY],
];
const ENDPOINTS = ['top', 'overview', 'movers', 'platforms'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

interface Result {
  size: string;
  endpoint: Endpoint;
  window: string;
  p50: number;
  p95: number;
  rawP50: number;
}

const flag = (args: string[], name: string, fallback: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

function dto<T extends object>(Type: new () => T, values: Partial<T>): T {
  return Object.assign(new Type(), values);
}

/** The four endpoints as the API serves them, and the same answers computed from raw rows. */
function calls(
  ds: DataSource,
  config: AppConfig,
  info: DatasetInfo,
  windowName: string,
  length: number,
) {
  // No DB_READ_* here: every read goes to the primary.
  const reads = new ReadReplicasService(
    ds,
    config,
    connectionTarget(config.db),
    new MetricsService(),
  );
  const trendsRepo = new TrendsRepository(ds, reads);
  const trends = new TrendsService(trendsRepo);
  const analytics = new AnalyticsService(
    new AnalyticsRepository(ds, config, reads),
    trendsRepo,
    config,
  );
  // Windows end 7 hours before the data ends: hour-aligned but not day-aligned, like a live
  // dashboard's window, so they read ragged hours from the hourly rollup too.
  const end = new Date(info.endAt.getTime() - 7 * HOUR);
  const at = end.toISOString();
  const now = end;
  const range = { from: new Date(end.getTime() - length).toISOString(), to: at };
  const current: TimeRange = { from: new Date(end.getTime() - length), to: end };
  const previous: TimeRange = {
    from: new Date(info.endAt.getTime() - 2 * length),
    to: current.from,
  };
  const rawTop = async () => {
    const leaders = await trendsRepo.top(current, {}, 20, true);
    const keys = leaders.map((l) => l.trendKey);
    await Promise.all([
      trendsRepo.totalsForKeys(previous, { keys }, true),
      trendsRepo.displayNames(keys),
    ]);
  };
  const api: Record<Endpoint, (raw: boolean) => Promise<unknown>> = {
    top: (raw) =>
      raw ? rawTop() : trends.top(dto(TopQueryDto, { window: windowName, limit: 20, at }), now),
    overview: (raw) => analytics.overview(dto(OverviewQueryDto, range), { raw, now }),
    movers: (raw) =>
      analytics.movers(
        dto(MoversQueryDto, {
          window: windowName,
          at,
          direction: 'rising',
          minMentions: 1,
          limit: 20,
        }),
        {
          raw,
          now,
        },
      ),
    platforms: (raw) => analytics.platforms(dto(PlatformsQueryDto, range), { raw, now }),
  };
  return api;
}

async function measure(
  config: AppConfig,
  info: DatasetInfo,
  size: string,
  runs: number,
  rawRuns: number,
): Promise<Result[]> {
  const target = { ...connectionTarget(config.db), database: info.database };
  const ds = new DataSource({ ...dataSourceOptions(config.db, target), extra: { max: 4 } });
  await ds.initialize();
  const results: Result[] = [];
  try {
    for (const [windowName, length] of WINDOWS) {
      const api = calls(ds, config, info, windowName, length);
      for (const endpoint of ENDPOINTS) {
        await timeRuns(3, () => api[endpoint](false)); // warm-up (pages idle for a minute go cold here)
        const times = await timeRuns(runs, () => api[endpoint](false));
        await timeRuns(1, () => api[endpoint](true));
        const raw = await timeRuns(rawRuns, () => api[endpoint](true));
        results.push({
          size,
          endpoint,
          window: windowName,
          p50: percentile(times, 50),
          p95: percentile(times, 95),
          rawP50: percentile(raw, 50),
        });
        const r = results[results.length - 1];
        console.log(
          `  ${size.padEnd(4)} ${endpoint.padEnd(9)} ${windowName.padEnd(4)} p50 ${r.p50.toFixed(1).padStart(7)} ms  p95 ${r.p95
            .toFixed(1)
            .padStart(
              7,
            )} ms  raw p50 ${r.rawP50.toFixed(1).padStart(8)} ms  raw/rollup ${(r.rawP50 / r.p50).toFixed(1)}×`,
        );
      }
    }
  } finally {
    await ds.destroy();
  }
  return results;
}

export async function run(args: string[]): Promise<void> {
  const config = loadConfig({
    DB_HOST: '127.0.0.1',
    DB_USER: 'postgres',
    ...process.env,
    LOG_LEVEL: 'silent',
    // Raw-row aggregates over 30 days at 10M rows must not be cut off by the guard.
    ANALYTICS_STATEMENT_TIMEOUT_MS: process.env.ANALYTICS_STATEMENT_TIMEOUT_MS ?? '600000',
  });
  const sizes = flag(args, 'sizes', '1m,10m').split(',');
  const runs = Number(flag(args, 'runs', '20'));
  const rawRuns = Number(flag(args, 'raw-runs', '3'));
  const infos: [string, DatasetInfo][] = [];
  for (const size of sizes) {
    const rows = Number(size.replace(/m$/i, '')) * 1_000_000;
    const info = await ensureDataset(config, `trend_bench_${size.toLowerCase()}`, rows);
    console.log(
      `  ${info.database}: raw ${info.rawRows.toLocaleString('en')}, hourly ${info.hourlyRows.toLocaleString(
        'en',
      )}, daily ${info.dailyRows.toLocaleString('en')} rows; data ends ${info.endAt.toISOString()}`,
    );
    infos.push([size, info]);
  }
  if (args.includes('--load-only')) return;

  console.log(
    `\n  uncached, ${runs} runs after 3 warm-up runs (raw: median of ${rawRuns}); times in ms`,
  );
  const results: Result[] = [];
  for (const [size, info] of infos)
    results.push(...(await measure(config, info, size, runs, rawRuns)));

  console.log('\n| size | endpoint | window | p50 ms | p95 ms | raw p50 ms | raw/rollup |');
  console.log('|---|---|---|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.size} | ${r.endpoint} | ${r.window} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.rawP50.toFixed(1)} | ${(r.rawP50 / r.p50).toFixed(1)}× |`,
    );
  }
  if (sizes.length >= 2) {
    const [small, large] = [sizes[0], sizes[sizes.length - 1]];
    console.log(`\n| endpoint | window | p95 ${large}/${small} |`);
    console.log('|---|---|---:|');
    for (const r of results.filter((x) => x.size === large)) {
      const base = results.find(
        (x) => x.size === small && x.endpoint === r.endpoint && x.window === r.window,
      );
      if (base) console.log(`| ${r.endpoint} | ${r.window} | ${(r.p95 / base.p95).toFixed(2)} |`);
    }
  }
}
