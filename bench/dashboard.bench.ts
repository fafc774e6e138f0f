/**
 * npm run bench -- dashboard [--seconds 60] [--clients 20] [--rate 1000]
 *
 * A live dashboard under continuous ingest: `clients` dashboards each poll top, series and
 * overview every 5 s with `Cache-Control: max-stale=30`, while ingest writes `rate` rows/s into
 * the current hour (one batch per second). Reports the share of answers served from the cache
 * (HIT + STALE), latency percentiles, and the ingest rate achieved.
 */
import { randomBytes } from 'node:crypto';
import { dropBench, option, seed, tokenFor } from './query.bench';
import { RunningService, recreateDatabase, startService } from './support/service';
import { fmt, percentile, printTable } from './support/stats';
import { postCollectorBatch } from './support/collector';

const HOUR = 3_600_000;
const POLL_MS = 5000;

export async function run(args: string[]): Promise<void> {
  const seconds = option(args, 'seconds', 60);
  const clients = option(args, 'clients', 20);
  const rate = option(args, 'rate', 1000);
  const tag = randomBytes(3).toString('hex');
  const database = `trend_bench_dash_${tag}`;
  const prefix = `bench:dash:${tag}:`;
  await recreateDatabase(database);
  let service: RunningService | undefined;
  try {
    service = await startService(database, {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: '6379',
      REDIS_KEY_PREFIX: prefix,
    });
    const url = service.url;
    console.log(
      `seeded ${fmt(await seed(url, 50, 48))} observations (50 trends × 3 platforms × hourly, 2 days)`,
    );
    const headers = {
      authorization: `Bearer ${tokenFor(['analyst'])}`,
      'cache-control': 'max-stale=30',
    };
    const from = new Date(Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR).toISOString();
    const endpoints: Record<string, string> = {
      top: `${url}/api/v1/trends/top?window=24h`,
      series: `${url}/api/v1/trends/${encodeURIComponent('trend 0')}/series?interval=hour&from=${from}`,
      overview: `${url}/api/v1/analytics/overview`,
    };
    for (const [name, target] of Object.entries(endpoints)) {
      const res = await fetch(target, { headers });
      await res.text();
      if (res.status !== 200) {
        console.log(`${name}: ${res.status} in this build — left out of the load`);
        delete endpoints[name];
      }
    }

    const deadline = Date.now() + seconds * 1000;
    const samples: Record<string, number[]> = {};
    const statuses: Record<string, number> = {};
    let ingested = 0;
    let ingestErrors = 0;

    const ingestLoop = async () => {
      const token = `Bearer ${tokenFor(['ingest'])}`;
      let n = 0;
      let nextTick = Date.now();
      while (Date.now() < deadline) {
        const tick = Date.now();
        nextTick += 1000; // absolute schedule: a slow batch does not lower the rate
        const status = await postCollectorBatch(url, token, { rate, offset: n, keys: 200, tick });
        n += rate;
        if (status === 201) ingested += rate;
        else ingestErrors++;
        await new Promise((r) => setTimeout(r, Math.max(0, nextTick - Date.now())));
      }
    };

    const dashboard = async (index: number) => {
      await new Promise((r) => setTimeout(r, (index * POLL_MS) / clients)); // spread the polls
      while (Date.now() < deadline) {
        const tick = Date.now();
        await Promise.all(
          Object.entries(endpoints).map(async ([name, target]) => {
            const started = process.hrtime.bigint();
            const res = await fetch(target, { headers });
            await res.text();
            (samples[name] ??= []).push(Number(process.hrtime.bigint() - started) / 1e6);
            const status =
              res.status === 200 ? (res.headers.get('x-cache') ?? 'none') : String(res.status);
            statuses[status] = (statuses[status] ?? 0) + 1;
          }),
        );
        await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (Date.now() - tick))));
      }
    };

    const started = Date.now();
    await Promise.all([ingestLoop(), ...Array.from({ length: clients }, (_, i) => dashboard(i))]);
    const elapsed = (Date.now() - started) / 1000;

    const all = Object.values(samples).flat();
    const total = Object.values(statuses).reduce((a, b) => a + b, 0);
    const cached = (statuses.HIT ?? 0) + (statuses.STALE ?? 0);
    console.log(
      `\n${clients} dashboards × ${Object.keys(endpoints).join('/')} every 5 s, max-stale=30, ${seconds} s`,
    );
    console.log(
      `ingest: ${fmt(ingested / elapsed)} rows/s achieved (target ${rate}), ${ingestErrors} failed batches`,
    );
    printTable(
      ['endpoint', 'requests', 'p50 ms', 'p95 ms', 'p99 ms'],
      [
        ...Object.entries(samples).map(([name, s]) => [
          name,
          s.length,
          fmt(percentile(s, 50), 2),
          fmt(percentile(s, 95), 2),
          fmt(percentile(s, 99), 2),
        ]),
        [
          'all',
          all.length,
          fmt(percentile(all, 50), 2),
          fmt(percentile(all, 95), 2),
          fmt(percentile(all, 99), 2),
        ],
      ],
    );
    console.log(
      `X-Cache: ${Object.entries(statuses)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    console.log(
      `hit rate (HIT + STALE) = ${fmt((100 * cached) / total, 1)}% (target ≥ 95%); p95 = ${fmt(percentile(all, 95), 2)} ms`,
    );
  } finally {
    await service?.stop();
    await dropBench(database, prefix);
  }
}
