/**
 * Partition layout of the time-partitioned tables and the DDL that creates partitions.
 * Shared by the initial migration, start-up and the partition job, so the naming and the
 * ranges are defined once.
 */
export type PartitionPeriod = 'month' | 'year';

export interface PartitionedTable {
  table: string;
  column: string;
  period: PartitionPeriod;
}

export const PARTITIONED_TABLES: readonly PartitionedTable[] = [
  { table: 'trend_observations', column: 'observed_at', period: 'month' },
  { table: 'trend_rollups_hourly', column: 'bucket', period: 'month' },
  { table: 'trend_rollups_daily', column: 'bucket', period: 'year' },
];

/** Minimal query interface satisfied by TypeORM's QueryRunner, DataSource and EntityManager. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export interface PartitionRange {
  name: string;
  from: Date;
  to: Date;
}

/** Start of the UTC period containing `at`. */
export function periodStart(at: Date, period: PartitionPeriod): Date {
  return period === 'month'
    ? new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1))
    : new Date(Date.UTC(at.getUTCFullYear(), 0, 1));
}

/** Start of the period `steps` periods after the one starting at `start`. */
export function addPeriods(start: Date, period: PartitionPeriod, steps: number): Date {
  return period === 'month'
    ? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + steps, 1))
    : new Date(Date.UTC(start.getUTCFullYear() + steps, 0, 1));
}

/** Predictable partition names: trend_observations_p2026_11, trend_rollups_daily_p2026. */
export function partitionName(table: string, period: PartitionPeriod, start: Date): string {
  const year = start.getUTCFullYear();
  if (period === 'year') return `${table}_p${year}`;
  return `${table}_p${year}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function defaultPartitionName(table: string): string {
  return `${table}_default`;
}

/** The partition of `spec` that holds `at`. */
export function partitionFor(spec: PartitionedTable, at: Date): PartitionRange {
  const from = periodStart(at, spec.period);
  return {
    name: partitionName(spec.table, spec.period, from),
    from,
    to: addPeriods(from, spec.period, 1),
  };
}

/** The current period and `ahead` periods after it. */
export function wantedPartitions(spec: PartitionedTable, now: Date, ahead: number): PartitionRange[] {
  const first = periodStart(now, spec.period);
  return Array.from({ length: ahead + 1 }, (_, i) => partitionFor(spec, addPeriods(first, spec.period, i)));
}

async function exists(db: Queryable, name: string): Promise<boolean> {
  const rows = (await db.query('SELECT to_regclass($1) IS NOT NULL AS present', [name])) as {
    present: boolean;
  }[];
  return rows[0].present;
}

/**
 * Creates one partition if it is missing. Rows of its range that wait in the DEFAULT partition
 * are moved into it first (create a standalone table, move, ATTACH: the pg_partman pattern),
 * because PostgreSQL refuses to create a partition whose rows sit in DEFAULT.
 * Must run inside a transaction. Returns the number of rows moved, or -1 if it existed.
 */
export async function createPartition(
  db: Queryable,
  spec: PartitionedTable,
  range: PartitionRange,
): Promise<number> {
  if (await exists(db, range.name)) return -1;
  const parent = quoteIdent(spec.table);
  const child = quoteIdent(range.name);
  const from = range.from.toISOString();
  const to = range.to.toISOString();
  await db.query(`CREATE TABLE ${child} (LIKE ${parent} INCLUDING DEFAULTS)`);
  const moved = (await db.query(
    `WITH moved AS (
       DELETE FROM ${quoteIdent(defaultPartitionName(spec.table))}
       WHERE ${quoteIdent(spec.column)} >= $1 AND ${quoteIdent(spec.column)} < $2
       RETURNING *)
     INSERT INTO ${child} SELECT * FROM moved`,
    [from, to],
  )) as unknown;
  await db.query(
    `ALTER TABLE ${parent} ATTACH PARTITION ${child} FOR VALUES FROM ('${from}') TO ('${to}')`,
  );
  return affectedRows(moved);
}

/** Ensures the current and `ahead` future partitions of every partitioned table exist. */
export async function ensurePartitions(
  db: Queryable,
  now: Date,
  ahead: number,
): Promise<string[]> {
  const created: string[] = [];
  for (const spec of PARTITIONED_TABLES) {
    for (const range of wantedPartitions(spec, now, ahead)) {
      if ((await createPartition(db, spec, range)) >= 0) created.push(range.name);
    }
  }
  return created;
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected identifier ${name}`);
  return `"${name}"`;
}

/** TypeORM returns [rows, count] for data-modifying statements on Postgres. */
function affectedRows(result: unknown): number {
  if (Array.isArray(result) && typeof result[1] === 'number') return result[1];
  return 0;
}
