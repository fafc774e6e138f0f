/**
 * Synthetic trend data for the analytics benchmark: N raw observations over 60 days, loaded
 * with COPY into a staging table and then moved by the service's own ingest statement (so the
 * rollups and the catalogue are maintained exactly as in production). Databases are kept
 * between runs (`trend_bench_1m`, `trend_bench_10m`); a half-finished load resumes.
 *
 * Shape: 20,000 trend keys with Zipf-like popularity (s = 1.1); 6 platforms × 8 regions.
 * A trend "episode" is one (platform, region, key) trending for 1–96 hours (exponential,
 * mean ≈ 18 h), observed every 5–15 minutes with a rise-and-fall mention curve;
 * about 15% of observations carry no sentiment. Rows are written in time order (6-hour
 * slices), as collectors deliver them.
 */
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/config';
import {
  connectionTarget,
  dataSourceOptions,
  ensureDatabaseExists,
  pgClientConfig,
} from '../../src/database/data-source';
import {
  PARTITIONED_TABLES,
  addPeriods,
  createPartition,
  partitionFor,
  periodStart,
} from '../../src/database/partitions';
import { INGEST_SQL } from '../../src/trends/ingest.repository';
import { DAY, HOUR, MINUTE, floorTo } from '../../src/common/time-window';

export const GENERATOR_VERSION = 1;
export const DATASET_DAYS = 60;
export const KEY_COUNT = 20_000;
export const PLATFORMS = ['x', 'tiktok', 'instagram', 'youtube', 'reddit', 'facebook'];
const PLATFORM_WEIGHTS = [30, 25, 20, 10, 10, 5];
export const REGIONS = ['US', 'GB', 'DE', 'FR', 'BR', 'IN', 'JP', 'GLOBAL'];
const REGION_WEIGHTS = [25, 10, 8, 8, 10, 12, 7, 20];
const SLICE_MS = 6 * HOUR;

export interface DatasetInfo {
  database: string;
  /** Exclusive end of the data (a whole hour); queries use it as `at`. */
  endAt: Date;
  rawRows: number;
  hourlyRows: number;
  dailyRows: number;
}

/** Deterministic PRNG (mulberry32); the state is one integer so episodes can pause and resume. */
function next(state: { s: number }): number {
  state.s = (state.s + 0x6d2b79f5) | 0;
  let t = state.s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function cumulative(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
}

function pick(cdf: ArrayLike<number>, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Stored (normalized) key and a display form; some keys are non-ASCII on purpose. */
export function trendKey(i: number): { key: string; display: string } {
  if (i % 13 === 0) return { key: `話題${i}`, display: `話題${i}` };
  if (i % 7 === 0) return { key: `fête-${i}`, display: `Fête-${i}` };
  if (i % 17 === 0) return { key: `ñandú_${i}`, display: `Ñandú_${i}` };
  return { key: `topic${i}`, display: `#Topic${i}` };
}

interface Episode {
  rng: { s: number };
  platform: string;
  region: string;
  key: string;
  display: string;
  start: number;
  end: number;
  t: number;
  peak: number;
  engagementFactor: number;
  mood: number;
}

function planEpisodes(targetRows: number, endAt: Date, seed: number): Episode[] {
  const rng = { s: seed };
  const zipf = new Float64Array(KEY_COUNT);
  let acc = 0;
  for (let i = 0; i < KEY_COUNT; i++) zipf[i] = acc += 1 / Math.pow(i + 1, 1.1);
  for (let i = 0; i < KEY_COUNT; i++) zipf[i] /= acc;
  const platformCdf = cumulative(PLATFORM_WEIGHTS);
  const regionCdf = cumulative(REGION_WEIGHTS);
  const end = endAt.getTime();
  const start = end - DATASET_DAYS * DAY;
  const episodes: Episode[] = [];
  let expected = 0;
  while (expected < targetRows) {
    const k = pick(zipf, next(rng));
    const { key, display } = trendKey(k);
    const hours = Math.min(96, 1 + -Math.log(1 - next(rng)) * 17);
    const from = start + Math.floor(next(rng) * (end - start - HOUR));
    const to = Math.min(end, from + hours * HOUR);
    expected += (to - from) / (10 * MINUTE);
    episodes.push({
      rng: { s: (seed ^ Math.imul(episodes.length + 1, 2654435761)) | 0 },
      platform: PLATFORMS[pick(platformCdf, next(rng))],
      region: REGIONS[pick(regionCdf, next(rng))],
      key,
      display,
      start: from,
      end: to,
      t: from,
      // Popular keys trend louder.
      peak: Math.round((50 + next(rng) * 450) * (1 + 20 / Math.sqrt(k + 1))),
      engagementFactor: 2 + next(rng) * 18,
      mood: next(rng) * 1.2 - 0.6,
    });
  }
  return episodes.sort((a, b) => a.start - b.start);
}

const escapeCopy = (s: string) =>
  s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');

/** Rows of `episode` with observed_at < until, as COPY text lines; advances the episode. */
function emit(episode: Episode, until: number, out: { t: number; line: string }[]): void {
  const e = episode;
  while (e.t < Math.min(until, e.end)) {
    const phase = (e.t - e.start) / Math.max(1, e.end - e.start);
    const curve = Math.sin(Math.PI * Math.min(1, phase * 0.9 + 0.05));
    const mentions = Math.max(0, Math.round(e.peak * curve * (0.6 + next(e.rng) * 0.8)));
    const engagement = Math.round(mentions * e.engagementFactor * (0.5 + next(e.rng)));
    const sentiment =
      next(e.rng) < 0.15
        ? '\\N'
        : Math.max(-1, Math.min(1, e.mood + (next(e.rng) - 0.5) * 0.8)).toFixed(4);
    out.push({
      t: e.t,
      line:
        `${e.platform}\t${e.region}\t${escapeCopy(e.key)}\t${escapeCopy(e.display)}\t` +
        `${new Date(e.t).toISOString()}\t${mentions}\t${engagement}\t${sentiment}\t\\N\t\\N\n`,
    });
    e.t += 5 * MINUTE + Math.floor(next(e.rng) * 10 * MINUTE);
  }
}

/** The ingest statement reading a staging table instead of request arrays. */
function stagedIngestSql(): string {
  const sql = INGEST_SQL.replace(
    /WITH input AS \([\s\S]*?\n\),\nins AS/,
    'WITH input AS (SELECT * FROM bench_staging),\nins AS',
  );
  if (sql === INGEST_SQL)
    throw new Error('ingest statement changed shape; update bench/support/dataset.ts');
  return sql;
}

async function ensurePartitionsFor(ds: DataSource, from: Date, to: Date): Promise<void> {
  await ds.transaction(async (manager) => {
    for (const spec of PARTITIONED_TABLES) {
      for (let p = periodStart(from, spec.period); p < to; p = addPeriods(p, spec.period, 1)) {
        await createPartition(manager, spec, partitionFor(spec, p));
      }
    }
  });
}

async function countRows(client: Client, table: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(rows[0].n);
}

/**
 * Makes sure database `name` holds `rows` generated observations (loading or resuming as
 * needed) and returns its facts. Migrations run through the app's DataSource options.
 */
export async function ensureDataset(
  config: AppConfig,
  name: string,
  rows: number,
  log = console.log,
): Promise<DatasetInfo> {
  const target = { ...connectionTarget(config.db), database: name };
  await ensureDatabaseExists(target);
  const ds = new DataSource({ ...dataSourceOptions(config.db, target), extra: { max: 2 } });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.query(`CREATE TABLE IF NOT EXISTS bench_dataset (
    name text PRIMARY KEY, target_rows bigint NOT NULL, generator_version int NOT NULL,
    end_at timestamptz NOT NULL, next_slice int NOT NULL, complete boolean NOT NULL)`);
  let [meta] = (await ds.query('SELECT * FROM bench_dataset WHERE name = $1', [name])) as {
    end_at: Date;
    next_slice: number;
    complete: boolean;
    target_rows: string;
    generator_version: number;
  }[];
  if (meta && (Number(meta.target_rows) !== rows || meta.generator_version !== GENERATOR_VERSION)) {
    throw new Error(`${name} holds a different data set; drop the database to rebuild it`);
  }
  if (!meta) {
    const endAt = floorTo(new Date(), HOUR);
    await ds.query('INSERT INTO bench_dataset VALUES ($1, $2, $3, $4, 0, false)', [
      name,
      rows,
      GENERATOR_VERSION,
      endAt,
    ]);
    meta = {
      end_at: endAt,
      next_slice: 0,
      complete: false,
      target_rows: String(rows),
      generator_version: GENERATOR_VERSION,
    };
  }
  const endAt = new Date(meta.end_at);
  const startAt = new Date(endAt.getTime() - DATASET_DAYS * DAY);
  await ensurePartitionsFor(
    ds,
    new Date(startAt.getTime() - 31 * DAY),
    new Date(endAt.getTime() + 31 * DAY),
  );
  await ds.destroy();

  const client = new Client(pgClientConfig(target));
  await client.connect();
  try {
    if (!meta.complete) {
      await client.query('SET synchronous_commit = off');
      await client.query('SET statement_timeout = 0');
      await client.query(`CREATE UNLOGGED TABLE IF NOT EXISTS bench_staging (
        platform text, region text, trend_key text, display_name text, observed_at timestamptz,
        mentions bigint, engagement bigint, sentiment real, source_id text, metadata jsonb)`);
      const episodes = planEpisodes(rows, endAt, 0x5eed ^ rows);
      const slices = Math.ceil((endAt.getTime() - startAt.getTime()) / SLICE_MS);
      const ingest = stagedIngestSql();
      let nextEpisode = 0;
      let active: Episode[] = [];
      const started = Date.now();
      for (let slice = 0; slice < slices; slice++) {
        const until = startAt.getTime() + (slice + 1) * SLICE_MS;
        while (nextEpisode < episodes.length && episodes[nextEpisode].start < until)
          active.push(episodes[nextEpisode++]);
        const lines: { t: number; line: string }[] = [];
        for (const e of active) emit(e, until, lines);
        active = active.filter((e) => e.t < e.end);
        if (slice < meta.next_slice) continue; // already loaded; generation above keeps the PRNGs in step
        lines.sort((a, b) => a.t - b.t);
        await client.query('BEGIN');
        await client.query('TRUNCATE bench_staging');
        await pipeline(
          Readable.from(lines.map((l) => l.line)),
          client.query(copyFrom('COPY bench_staging FROM STDIN')),
        );
        await client.query(ingest);
        await client.query('UPDATE bench_dataset SET next_slice = $2 WHERE name = $1', [
          name,
          slice + 1,
        ]);
        await client.query('COMMIT');
        if (slice % 20 === 19 || slice === slices - 1) {
          log(
            `  ${name}: slice ${slice + 1}/${slices}, ${Math.round((Date.now() - started) / 1000)} s`,
          );
        }
      }
      await client.query('DROP TABLE bench_staging');
      log(`  ${name}: VACUUM ANALYZE`);
      await client.query('VACUUM ANALYZE');
      await client.query('UPDATE bench_dataset SET complete = true WHERE name = $1', [name]);
    }
    return {
      database: name,
      endAt,
      rawRows: await countRows(client, 'trend_observations'),
      hourlyRows: await countRows(client, 'trend_rollups_hourly'),
      dailyRows: await countRows(client, 'trend_rollups_daily'),
    };
  } finally {
    await client.end();
  }
}
