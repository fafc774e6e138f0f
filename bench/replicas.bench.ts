/**
 * npm run bench -- replicas [--seconds 20] [--clients 5] [--rate 200]
 *
 * Share of a dashboard's database reads served by a streaming replica (SPEC §14): a real
 * primary + replica (test/support/streaming-replica.ts, needs root and PostgreSQL 15's
 * server binaries), the service in its own process with DB_READ_HOST, `clients` dashboards
 * polling top, series and overview every 2 s (exact: no Cache-Control header; `no-cache`;
 * `no-cache` with the replica stopped) while ingest writes `rate` rows/s in one batch per second. Counts come from the
 * service's db_reads_total{target,reason}.
 */
import { StreamingPair } from '../test/support/streaming-replica';
import { option, seed, tokenFor } from './query.bench';
import { RunningService, startService } from './support/service';
import { fmt, percentile, printTable } from './support/stats';
import { postCollectorBatch } from './support/collector';

const HOUR = 3_600_000;
const POLL_MS = 2000;

async function readCounts(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(
    /^db_reads_total\{target="(\w+)",reason="(\w+)"\} (\d+(?:\.\d+)?)$/gm,
  ))
    counts.set(`${match[1]}/${match[2]}`, Number(match[3]));
  return counts;
}

export async function run(args: string[]): Promise<void> {
  const seconds = option(args, 'seconds', 20);
  const clients = option(args, 'clients', 5);
  const rate = option(args, 'rate', 200);
  const pair = await StreamingPair.start();
  let service: RunningService | undefined;
  try {
    service = await startService('trend_bench_replicas', {
      DB_HOST: '127.0.0.1',
      DB_PORT: String(pair.primary.port),
      DB_USER: 'postgres',
      DB_PASSWORD: '',
      DB_READ_HOST: '127.0.0.1',
      DB_READ_PORT: String(pair.replica.port),
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: '6379',
      REDIS_KEY_PREFIX: `bench:replicas:${Date.now()}:`,
    });
    const url = service.url;
    console.log(`seeded ${fmt(await seed(url, 30, 24))} observations`);
    await pair.caughtUp();
    await new Promise((r) => setTimeout(r, 2500)); // one health-check round sees it caught up

    const from = new Date(Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR).toISOString();
    const endpoints = [
      `${url}/api/v1/trends/top?window=24h`,
      `${url}/api/v1/trends/${encodeURIComponent('trend 0')}/series?interval=hour&from=${from}`,
      `${url}/api/v1/analytics/overview`,
    ];
    const rows: (string | number)[][] = [];
    for (const mode of ['exact (cached)', 'no-cache', 'no-cache, replica stopped']) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${tokenFor(['analyst'])}`,
        ...(mode.startsWith('no-cache') ? { 'cache-control': 'no-cache' } : {}),
      };
      if (mode.endsWith('replica stopped')) await pair.replica.stop();
      const latencies: number[] = [];
      const before = await readCounts(url);
      const deadline = Date.now() + seconds * 1000;
      let answers = 0;
      let failures = 0;
      const ingestLoop = async () => {
        const token = `Bearer ${tokenFor(['ingest'])}`;
        let n = 0;
        while (Date.now() < deadline) {
          const tick = Date.now();
          await postCollectorBatch(url, token, { rate, offset: n, keys: 30, tick });
          n += rate;
          await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - tick))));
        }
      };
      const dashboard = async (index: number) => {
        await new Promise((r) => setTimeout(r, (index * POLL_MS) / clients));
        while (Date.now() < deadline) {
          const tick = Date.now();
          await Promise.all(
            endpoints.map(async (target) => {
              const started = process.hrtime.bigint();
              const res = await fetch(target, { headers });
              await res.text();
              latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
              if (res.status === 200) answers++;
              else failures++;
            }),
          );
          await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (Date.now() - tick))));
        }
      };
      await Promise.all([ingestLoop(), ...Array.from({ length: clients }, (_, i) => dashboard(i))]);
      const after = await readCounts(url);
      const moved = new Map<string, number>();
      for (const [key, value] of after) moved.set(key, value - (before.get(key) ?? 0));
      const sum = (target: string) =>
        [...moved].filter(([k]) => k.startsWith(`${target}/`)).reduce((s, [, v]) => s + v, 0);
      const replica = sum('replica');
      const primary = sum('primary');
      const reasons = [...moved]
        .filter(([k, v]) => k.startsWith('primary/') && v > 0)
        .map(([k, v]) => `${k.slice(8)} ${v}`)
        .join(', ');
      rows.push([
        mode,
        answers,
        failures,
        replica + primary,
        replica,
        primary,
        replica + primary ? `${fmt((100 * replica) / (replica + primary), 1)} %` : '-',
        fmt(percentile(latencies, 50), 2),
        fmt(percentile(latencies, 95), 2),
        reasons || '-',
      ]);
    }
    console.log(
      `\n${clients} dashboards × top/series/overview every ${POLL_MS / 1000} s, ingest ${rate} rows/s, ${seconds} s per mode`,
    );
    printTable(
      [
        'mode',
        'answers',
        'non-200',
        'db reads',
        'replica',
        'primary',
        'replica share',
        'p50 ms',
        'p95 ms',
        'primary because',
      ],
      rows,
    );
  } finally {
    await service?.stop();
    await pair.stop();
  }
}
