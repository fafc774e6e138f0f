import { TestDatabase } from './database';

/** Month/year arithmetic for expectations, written independently of src/database/partitions. */
export const monthStart = (at: Date, add = 0): Date =>
  new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + add, 1));
export const yearStart = (at: Date, add = 0): Date =>
  new Date(Date.UTC(at.getUTCFullYear() + add, 0, 1));
export const monthName = (table: string, start: Date): string =>
  `${table}_p${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
export const yearName = (table: string, start: Date): string =>
  `${table}_p${start.getUTCFullYear()}`;

/** Writes observations straight into the DEFAULT partition (ids from the table's identity). */
export async function insertDefaultObservations(
  db: TestDatabase,
  rows: { at: Date; key: string; mentions: number }[],
): Promise<void> {
  await db.query(
    `INSERT INTO trend_observations_default
       (id, platform, region, trend_key, display_name, observed_at, mentions, engagement)
     SELECT nextval(pg_get_serial_sequence('trend_observations', 'id')), 'x', 'US', r.key, r.key, r.at, r.mentions, r.mentions * 2
     FROM unnest($1::timestamptz[], $2::text[], $3::bigint[]) AS r(at, key, mentions)`,
    [rows.map((r) => r.at.toISOString()), rows.map((r) => r.key), rows.map((r) => r.mentions)],
  );
}

/**
 * Writes rollup rows straight into a rollup table's DEFAULT partition, or (`via: 'parent'`)
 * into the parent, which routes each row to its partition or DEFAULT.
 */
export async function insertDefaultRollups(
  db: TestDatabase,
  table: 'trend_rollups_hourly' | 'trend_rollups_daily',
  rows: { bucket: Date; key: string; mentions: number }[],
  via: 'default' | 'parent' = 'default',
): Promise<void> {
  await db.query(
    `INSERT INTO ${via === 'default' ? `${table}_default` : table} (bucket, platform, region, trend_key, mentions, engagement, samples)
     SELECT r.bucket, 'x', 'US', r.key, r.mentions, r.mentions * 3, 1
     FROM unnest($1::timestamptz[], $2::text[], $3::bigint[]) AS r(bucket, key, mentions)`,
    [rows.map((r) => r.bucket.toISOString()), rows.map((r) => r.key), rows.map((r) => r.mentions)],
  );
}

/** Partition membership: (parent, child) pairs from pg_inherits. */
export async function inherits(db: TestDatabase): Promise<string[]> {
  const rows = await db.query<{ pair: string }>(
    `SELECT p.relname || '/' || c.relname AS pair FROM pg_inherits i
     JOIN pg_class p ON p.oid = i.inhparent JOIN pg_class c ON c.oid = i.inhrelid
     ORDER BY 1`,
  );
  return rows.map((r) => r.pair);
}

/** Count and sum of mentions per partitioned table, and per partition holding rows. */
export async function totals(db: TestDatabase): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of ['trend_observations', 'trend_rollups_hourly', 'trend_rollups_daily']) {
    const rows = await db.query<{ part: string; n: string; s: string }>(
      `SELECT tableoid::regclass::text AS part, count(*) AS n, coalesce(sum(mentions), 0) AS s
       FROM ${table} GROUP BY 1 ORDER BY 1`,
    );
    for (const r of rows) out[r.part] = `${r.n}/${r.s}`;
  }
  return out;
}

export async function tableSum(db: TestDatabase, table: string): Promise<{ n: number; s: number }> {
  const [row] = await db.query<{ n: string; s: string }>(
    `SELECT count(*) AS n, coalesce(sum(mentions), 0) AS s FROM ${table}`,
  );
  return { n: Number(row.n), s: Number(row.s) };
}
