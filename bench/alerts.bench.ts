/**
 * npm run bench -- alerts [--db=trend_bench_1m] [--rows=1000000] [--runs=10]
 *
 * Latency of one alert rule's evaluation query (SPEC §12) for each kind and window, scope
 * "every trend" (the expensive case: one series per key), at an evaluation time off the hour
 * so windows read raw rows at both ragged ends. Uses the analytics benchmark's data set
 * (bench/support/dataset.ts, built on first use and kept); it only reads.
 */
import { DataSource } from 'typeorm';
import { evaluationQuery } from '../src/alerts/evaluation-query';
import { RuleDef } from '../src/alerts/rule';
import { RuleKind } from '../src/alerts/dto/rule.dto';
import { HOUR, MINUTE, WINDOWS } from '../src/common/time-window';
import { loadConfig } from '../src/config/config';
import { connectionTarget, dataSourceOptions } from '../src/database/data-source';
import { ensureDataset } from './support/dataset';

const flag = (args: string[], name: string, fallback: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const THRESHOLDS: Record<RuleKind, number> = {
  threshold: 1000,
  growth: 2,
  spike: 3,
  new_trend: 100,
};

function rule(kind: RuleKind, window: string): RuleDef {
  const now = new Date();
  return {
    id: '0',
    name: 'bench',
    kind,
    metric: 'mentions',
    window,
    windowMs: WINDOWS[window],
    scope: { trendKey: null, platform: null, region: null },
    threshold: THRESHOLDS[kind],
    minMentions: 100,
    baselineHours: 168,
    forMs: 0,
    keepFiringForMs: 0,
    repeatIntervalMs: 4 * HOUR,
    severity: 'warning',
    channelIds: [],
    quietHours: null,
    enabled: true,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

export async function run(args: string[]): Promise<void> {
  const config = loadConfig({
    DB_HOST: '127.0.0.1',
    DB_USER: 'postgres',
    ...process.env,
    LOG_LEVEL: 'silent',
  });
  const database = flag(args, 'db', 'trend_bench_1m');
  const rows = Number(flag(args, 'rows', '1000000'));
  const runs = Number(flag(args, 'runs', '10'));
  const info = await ensureDataset(config, database, rows);
  console.log(
    `  ${info.database}: raw ${info.rawRows.toLocaleString('en')} rows; data ends ${info.endAt.toISOString()}`,
  );
  const ds = new DataSource({
    ...dataSourceOptions(config.db, { ...connectionTarget(config.db), database: info.database }),
    extra: { max: 2 },
  });
  await ds.initialize();
  // Off the hour and off the second, 7 hours before the data ends (a live-like evaluation).
  const t = new Date(info.endAt.getTime() - 7 * HOUR + 17 * MINUTE + 23_456);
  try {
    console.log('  kind       window  p50 ms   p95 ms   series');
    for (const kind of ['threshold', 'growth', 'spike', 'new_trend'] as RuleKind[]) {
      for (const window of ['15m', '1h', '6h', '24h']) {
        const q = evaluationQuery(rule(kind, window), t, 100, []);
        for (let i = 0; i < 2; i++) await ds.query(q.sql, q.params); // warm-up
        const times: number[] = [];
        let series = 0;
        for (let i = 0; i < runs; i++) {
          const started = process.hrtime.bigint();
          const result = (await ds.query(q.sql, q.params)) as { cond: boolean }[];
          times.push(Number(process.hrtime.bigint() - started) / 1e6);
          series = result.filter((r) => r.cond).length;
        }
        times.sort((a, b) => a - b);
        console.log(
          `  ${kind.padEnd(10)} ${window.padEnd(6)} ${percentile(times, 50).toFixed(1).padStart(7)} ${percentile(
            times,
            95,
          )
            .toFixed(1)
            .padStart(8)} ${String(series).padStart(8)}`,
        );
      }
    }
  } finally {
    await ds.destroy();
  }
}
