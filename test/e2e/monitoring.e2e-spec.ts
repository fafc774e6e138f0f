import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { freePort } from '../../src/common/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, bearer } from '../support/tokens';

/** Every metric SPEC §8 names. */
const SPEC_METRICS = [
  'trends_processed_total',
  'trends_duplicates_total',
  'active_connections_current',
  'cache_hit_rate',
  'cache_operations_total',
  'api_response_time_seconds',
  'errors_total',
  'job_runs_total',
  'job_duration_seconds',
  'job_last_success_timestamp_seconds',
  'backup_last_success_timestamp_seconds',
  'backup_last_verified_timestamp_seconds',
  'backup_size_bytes',
  'partitions_count',
  'partitions_premade_ahead',
  'default_partition_rows',
];

const DB_PASSWORD = 'not-a-real-password-7f3a9c';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small independent parser of the Prometheus text format (samples only). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function value(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value;
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await fn().catch(() => undefined);
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('monitoring: metrics, admin endpoints, request ids', () => {
  let db: TestDatabase;
  let t: TestApp;
  let metricsPort: number;
  let appPort: number;
  const now = new Date();
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();

  const scrape = async (path = '/metrics') => {
    const res = await request(t.http).get(path);
    expect(res.status).toBe(200);
    return res.text;
  };

  beforeAll(async () => {
    db = await createTestDatabase('monitoring');
    metricsPort = await freePort();
    t = await startTestApp(db, {
      METRICS_PORT: String(metricsPort),
      DB_PASSWORD,
      HOST: '127.0.0.1',
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    appPort = (t.app.getHttpServer().address() as AddressInfo).port;
    // A row outside every partition's range lands in DEFAULT (the partition job would move it).
    await db.query(
      `INSERT INTO trend_observations (platform, region, trend_key, display_name, observed_at, mentions)
       VALUES ('x', 'GLOBAL', 'far-future', 'far-future', '2099-01-01T00:00:00Z', 1)`,
    );
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('trends_processed_total grows by exactly the accepted count per platform; duplicates are counted', async () => {
    const before = parseSamples(await scrape());
    const observations = [
      { platform: 'alpha', trendKey: 'one', observedAt: minutesAgo(5), mentions: 3 },
      { platform: 'alpha', trendKey: 'two', observedAt: minutesAgo(6), mentions: 4 },
      { platform: 'alpha', trendKey: 'two', observedAt: minutesAgo(6), mentions: 4 }, // in-batch duplicate
      { platform: 'beta', trendKey: 'one', observedAt: minutesAgo(7), mentions: 5 },
    ];
    const first = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ accepted: 3, duplicates: 1 });
    const again = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations });
    expect(again.body).toEqual({ accepted: 0, duplicates: 4 });

    const after = parseSamples(await scrape());
    const grew = (labels: Record<string, string>) =>
      (value(after, 'trends_processed_total', labels) ?? 0) -
      (value(before, 'trends_processed_total', labels) ?? 0);
    expect(grew({ platform: 'alpha' })).toBe(2);
    expect(grew({ platform: 'beta' })).toBe(1);
    const total = (samples: Sample[]) =>
      samples
        .filter((s) => s.name === 'trends_processed_total')
        .reduce((sum, s) => sum + s.value, 0);
    expect(total(after) - total(before)).toBe(3);
    expect(
      (value(after, 'trends_duplicates_total') ?? 0) -
        (value(before, 'trends_duplicates_total') ?? 0),
    ).toBe(5);
  });

  it('exposes every SPEC metric, and /monitoring/metrics serves the same registry', async () => {
    const text = await scrape();
    for (const name of SPEC_METRICS) expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    // The seed's name ends in _count, which promtool only accepts on an untyped metric.
    expect(text).toMatch(/^# TYPE partitions_count untyped$/m);
    expect(text).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
    expect(text).toMatch(/^# TYPE nodejs_heap_size_used_bytes gauge$/m);
    expect(text).toMatch(/^# TYPE api_response_time_seconds histogram$/m);
    const mirror = await scrape('/monitoring/metrics');
    const families = (body: string) =>
      [...body.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]).sort();
    expect(families(mirror)).toEqual(families(text));
  });

  it('database-derived gauges match the catalog', async () => {
    const samples = parseSamples(await scrape());
    const rows = await db.query<{ parent: string; n: number }>(
      `SELECT p.relname AS parent, count(*)::int AS n FROM pg_inherits i
         JOIN pg_class p ON p.oid = i.inhparent JOIN pg_class c ON c.oid = i.inhrelid
        WHERE p.relkind = 'p' AND c.relkind IN ('r', 'p') AND c.relname NOT LIKE '%\\_default'
        GROUP BY p.relname`,
    );
    expect(rows.length).toBe(3);
    for (const row of rows) {
      expect(value(samples, 'partitions_count', { table: row.parent })).toBe(row.n);
      // The migration creates the current period and 3 ahead.
      expect(value(samples, 'partitions_premade_ahead', { table: row.parent })).toBe(3);
    }
    expect(value(samples, 'default_partition_rows', { table: 'trend_observations' })).toBe(1);
    expect(value(samples, 'default_partition_rows', { table: 'trend_rollups_hourly' })).toBe(0);
    const dbConnections =
      value(samples, 'active_connections_current', { service: 'database' }) ?? 0;
    expect(dbConnections).toBeGreaterThanOrEqual(1);
    expect(dbConnections).toBeLessThanOrEqual(t.config.db.poolMax);
    expect(
      value(samples, 'active_connections_current', { service: 'http' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('labels routes by template: 200 distinct trend keys add no label values; unmatched 404s share one label', async () => {
    const routesOf = (samples: Sample[]) =>
      new Set(
        samples
          .filter((s) => s.name === 'api_response_time_seconds_count')
          .map((s) => s.labels.route),
      );
    const from = new Date(now.getTime() - 3600_000).toISOString();
    const to = now.toISOString();
    const series = (key: string) =>
      request(t.http)
        .get(`/api/v1/trends/${encodeURIComponent(key)}/series`)
        .query({ from, to, interval: 'hour' })
        .set(bearer(['analyst']));
    // Keys never ingested: 404 (SPEC §5), still labelled by the route template.
    expect((await series('warmup')).status).toBe(404);
    await request(t.http).get('/no/such/path/warmup');
    const before = parseSamples(await scrape());
    const countBefore =
      value(before, 'api_response_time_seconds_count', {
        method: 'GET',
        route: '/api/v1/trends/:trendKey/series',
        status_code: '404',
      }) ?? 0;

    for (let i = 0; i < 200; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, j) => series(`key-${i + j}-${Math.random()}`)),
      );
      for (const res of batch) expect(res.status).toBe(404);
    }
    for (let i = 0; i < 5; i++)
      expect((await request(t.http).get(`/no/such/path/${i}`)).status).toBe(404);

    const after = parseSamples(await scrape());
    expect(routesOf(after)).toEqual(routesOf(before));
    expect(
      value(after, 'api_response_time_seconds_count', {
        method: 'GET',
        route: '/api/v1/trends/:trendKey/series',
        status_code: '404',
      }),
    ).toBe(countBefore + 200);
    expect(
      value(after, 'api_response_time_seconds_count', {
        method: 'GET',
        route: 'UNMATCHED',
        status_code: '404',
      }),
    ).toBeGreaterThanOrEqual(6);
    for (const route of routesOf(after)) expect(route).not.toMatch(/key-|such/);
  });

  it('records errors too (401 under the route template)', async () => {
    await request(t.http).get('/monitoring/status').expect(401);
    const samples = parseSamples(await scrape());
    expect(
      value(samples, 'api_response_time_seconds_count', {
        method: 'GET',
        route: '/monitoring/status',
        status_code: '401',
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('every metric the Grafana dashboard and the alert rules query exists in /metrics', async () => {
    const text = await scrape();
    const families = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]));
    const exists = (name: string) =>
      families.has(name) || families.has(name.replace(/_(bucket|count|sum)$/, ''));
    const root = join(__dirname, '..', '..', 'deploy');
    const dashboard = readFileSync(join(root, 'grafana', 'trend-service.json'), 'utf8');
    const rules = readFileSync(join(root, 'prometheus', 'alerts.yml'), 'utf8');
    const used = new Set(
      [...`${dashboard}\n${rules}`.matchAll(/([a-z_][a-z0-9_]*)\{job/g)]
        .map((m) => m[1])
        .filter((n) => n !== 'up'),
    );
    expect(used.size).toBeGreaterThanOrEqual(15);
    for (const name of used) expect({ name, exists: exists(name) }).toEqual({ name, exists: true });
  });

  it('passes promtool check metrics with no findings', async () => {
    const text = await scrape();
    expect(text.length).toBeGreaterThan(1000);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('serves only the metrics on METRICS_PORT', async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const body = await res.text();
    expect(body).toMatch(/^# TYPE trends_processed_total counter$/m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/health`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/api/v1/trends/top`)).status).toBe(404);
  });

  it('a real Prometheus scrapes the service: up == 1 and an app metric read back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trend-prometheus-'));
    const promPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: trend-service',
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${appPort}']`,
        '',
      ].join('\n'),
    );
    let prometheus: ChildProcess | undefined;
    try {
      prometheus = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        { stdio: 'ignore' },
      );
      const query = async (promql: string) => {
        const res = await fetch(
          `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(promql)}`,
        );
        const body = (await res.json()) as {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        return body.data.result;
      };
      const up = await waitFor('up == 1', async () => {
        const result = await query('up{job="trend-service"}');
        return result.length === 1 && result[0].value[1] === '1' ? result[0] : undefined;
      });
      expect(up.metric.instance).toBe(`127.0.0.1:${appPort}`);
      const expected = value(parseSamples(await scrape()), 'trends_processed_total', {
        platform: 'alpha',
      });
      expect(expected).toBe(2);
      const processed = await waitFor('trends_processed_total', async () => {
        const result = await query('trends_processed_total{platform="alpha"}');
        return result.length === 1 ? Number(result[0].value[1]) : undefined;
      });
      expect(processed).toBe(expected);
    } finally {
      if (prometheus?.pid) process.kill(prometheus.pid, 'SIGTERM');
      await new Promise((r) =>
        prometheus && prometheus.exitCode === null ? prometheus.once('exit', r) : r(null),
      );
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('admin endpoints', () => {
    const paths = [
      '/monitoring/status',
      '/monitoring/trends/status',
      '/monitoring/admin/database',
      '/monitoring/admin/memory',
    ];

    it.each(paths)('%s: 401 without a token, 403 for analyst', async (path) => {
      expect((await request(t.http).get(path)).status).toBe(401);
      expect(
        (
          await request(t.http)
            .get(path)
            .set(bearer(['analyst']))
        ).status,
      ).toBe(403);
      expect(
        (
          await request(t.http)
            .get(path)
            .set(bearer(['ingest']))
        ).status,
      ).toBe(403);
    });

    it('never return a secret', async () => {
      for (const path of paths) {
        const res = await request(t.http)
          .get(path)
          .set(bearer(['admin']));
        expect(res.status).toBe(200);
        expect(res.text).not.toContain(DB_PASSWORD);
        expect(res.text).not.toContain(TEST_JWT_SECRET);
        expect(res.text.toLowerCase()).not.toContain('password');
      }
    });

    it('/monitoring/status lists version, uptime, components, ingest rate, cache hit rate, job runs', async () => {
      await db.query(
        `INSERT INTO job_runs (job, trigger, status, started_at, finished_at)
         VALUES ('partitions', 'schedule', 'succeeded', now() - interval '2 hours', now() - interval '2 hours'),
                ('partitions', 'manual', 'failed', now() - interval '1 hour', now() - interval '1 hour')`,
      );
      const res = await request(t.http)
        .get('/monitoring/status')
        .set(bearer(['admin']));
      expect(res.body).toMatchObject({
        service: 'trend-service',
        phase: 'ready',
        components: {
          database: { status: 'up' },
          redis: { status: expect.any(String) },
          backupDisk: { status: 'up' },
          heap: { status: 'up' },
        },
      });
      expect(typeof res.body.version).toBe('string');
      expect(res.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
      expect(res.body.ingest.ratePerSecond).toBeGreaterThan(0);
      expect(res.body).toHaveProperty('cache.hitRate');
      expect(res.body.lastJobRuns).toEqual([
        expect.objectContaining({ job: 'partitions', status: 'failed', trigger: 'manual' }),
      ]);
    });

    it('/monitoring/trends/status gives the last observation and last-hour volume per platform', async () => {
      const res = await request(t.http)
        .get('/monitoring/trends/status')
        .set(bearer(['admin']));
      const byPlatform = Object.fromEntries(
        (
          res.body.platforms as {
            platform: string;
            ingestLagSeconds: number;
            avgArrivalDelaySeconds: number;
          }[]
        ).map((p) => [p.platform, p]),
      );
      // Independent expectation from the observations ingested above.
      expect(byPlatform.alpha).toMatchObject({
        lastObservedAt: minutesAgo(5),
        lastHour: { observations: 2, mentions: 7 },
      });
      expect(byPlatform.beta).toMatchObject({
        lastObservedAt: minutesAgo(7),
        lastHour: { observations: 1, mentions: 5 },
      });
      expect(byPlatform.alpha.ingestLagSeconds).toBeGreaterThanOrEqual(300);
      expect(byPlatform.alpha.avgArrivalDelaySeconds).toBeGreaterThan(0);
    });

    it('/monitoring/admin/database shows pool, server version, size and partitions', async () => {
      const res = await request(t.http)
        .get('/monitoring/admin/database')
        .set(bearer(['admin']));
      const [{ version }] = await db.query<{ version: string }>(
        `SELECT current_setting('server_version') AS version`,
      );
      expect(res.body.serverVersion).toBe(version);
      expect(res.body.connection).toMatchObject({ database: db.name, user: db.env.DB_USER });
      expect(res.body.pool).toEqual({
        total: expect.any(Number),
        idle: expect.any(Number),
        waiting: expect.any(Number),
        max: t.config.db.poolMax,
      });
      expect(res.body.sizeBytes).toBeGreaterThan(1_000_000);
      const observations = (
        res.body.partitions as { table: string; partitions: { name: string }[] }[]
      ).find((p) => p.table === 'trend_observations');
      expect(observations?.partitions.map((p) => p.name)).toContain('trend_observations_default');
    });

    it('/monitoring/admin/memory shows memoryUsage, heap statistics and event-loop lag', async () => {
      const res = await request(t.http)
        .get('/monitoring/admin/memory')
        .set(bearer(['admin']));
      expect(res.body.memoryUsage.heapUsed).toBeGreaterThan(0);
      expect(res.body.heapStatistics.heap_size_limit).toBeGreaterThan(
        res.body.heapStatistics.used_heap_size,
      );
      expect(res.body.eventLoopLag).toEqual(
        expect.objectContaining({
          p50Ms: expect.any(Number),
          p99Ms: expect.any(Number),
          maxMs: expect.any(Number),
        }),
      );
    });
  });

  describe('request ids', () => {
    it('keeps a sane client id, replaces an unsafe one, and puts it in error bodies', async () => {
      const kept = await request(t.http).get('/health/live').set('X-Request-Id', 'client-id-123');
      expect(kept.headers['x-request-id']).toBe('client-id-123');
      const replaced = await request(t.http)
        .get('/health/live')
        .set('X-Request-Id', 'bad id <script>');
      expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const generated = await request(t.http).get('/api/v1/trends/top');
      expect(generated.status).toBe(401);
      expect(generated.body.requestId).toBe(generated.headers['x-request-id']);
      expect(generated.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
