/**
 * Partition layout of the time-partitioned tables and the DDL that creates partitions.
 * Shared by the initial migration, start-up and the partition job, so the naming and the
 * ranges are defined once.
 */
import { quoteStrictIdent } from './identifiers';

export type PartitionPeriod = 'month' | 'year';

export interface PartitionedTable {
  table: string;
  column: string;
  period: PartitionPeriod;
  /** Free space left in each page so in-place (HOT) updates fit: the rollups are updated constantly. */
  fillfactor?: number;
}

export const PARTITIONED_TABLES: readonly PartitionedTable[] = [
  { table: 'trend_observations', column: 'observed_at', period: 'month' },
  { table: 'trend_rollups_hourly', column: 'bucket', period: 'month', fillfactor: 70 },
  { table: 'trend_rollups_daily', column: 'bucket', period: 'year', fillfactor: 70 },
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
export function wantedPartitions(
  spec: PartitionedTable,
  now: Date,
  ahead: number,
): PartitionRange[] {
  const first = periodStart(now, spec.period);
  return Array.from({ length: ahead + 1 }, (_, i) =>
    partitionFor(spec, addPeriods(first, spec.period, i)),
  );
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
 * because PostgreSQL refuses to create a partition whose rows sit in DEFAULT. Writers into
 * DEFAULT wait until the transaction ends. Must run inside a transaction. Returns the number
 * of rows moved, or -1 if it existed.
 */
export async function createPartition(
  db: Queryable,
  spec: PartitionedTable,
  range: PartitionRange,
): Promise<number> {
  if (await exists(db, range.name)) return -1;
  const parent = quoteStrictIdent(spec.table);
  const child = quoteStrictIdent(range.name);
  const from = range.from.toISOString();
  const to = range.to.toISOString();
  const storage = spec.fillfactor ? ` WITH (fillfactor = ${Number(spec.fillfactor)})` : '';
  const fallback = quoteStrictIdent(defaultPartitionName(spec.table));
  await db.query(`CREATE TABLE ${child} (LIKE ${parent} INCLUDING DEFAULTS)${storage}`);
  // Until ATTACH commits, rows of this range still route to DEFAULT: keep writers out of it
  // (reads go on) so none lands there between the move and ATTACH's check. The caller's
  // lock_timeout bounds the wait.
  await db.query(`LOCK TABLE ${fallback} IN SHARE ROW EXCLUSIVE MODE`);
  const [moved] = (await db.query(
    `WITH moved AS (
       DELETE FROM ${fallback}
       WHERE ${quoteStrictIdent(spec.column)} >= $1 AND ${quoteStrictIdent(spec.column)} < $2
       RETURNING *),
     copied AS (INSERT INTO ${child} SELECT * FROM moved RETURNING 1)
     SELECT count(*)::int AS n FROM copied`,
    [from, to],
  )) as { n: number }[];
  await db.query(
    `ALTER TABLE ${parent} ATTACH PARTITION ${child} FOR VALUES FROM ('${from}') TO ('${to}')`,
  );
  return moved.n;
}

/** Ensures the current and `ahead` future partitions of every partitioned table exist. */
export async function ensurePartitions(db: Queryable, now: Date, ahead: number): Promise<string[]> {
  const created: string[] = [];
  for (const spec of PARTITIONED_TABLES) {
    for (const range of wantedPartitions(spec, now, ahead)) {
      if ((await createPartition(db, spec, range)) >= 0) created.push(range.name);
    }
  }
  return created;
}

/** One partition of a partitioned table as the catalog describes it. */
export interface PartitionInfo {
  table: string;
  partition: string;
  /** null for the DEFAULT partition. */
  from: Date | null;
  to: Date | null;
  isDefault: boolean;
  /** pg_class.reltuples (0 until the partition was first analyzed or vacuumed). */
  estimatedRows: number;
  bytes: number;
}

/**
 * Every partition of the partitioned tables, bounds read from pg_get_expr(relpartbound)
 * and cast back to timestamptz in SQL (the text form depends on the session time zone).
 */
export async function listPartitions(
  db: Queryable,
  tables = PARTITIONED_TABLES.map((t) => t.table),
): Promise<PartitionInfo[]> {
  const rows = (await db.query(
    `WITH parts AS (
       SELECT p.relname AS parent, c.relname AS child, c.oid,
              pg_get_expr(c.relpartbound, c.oid) AS bound, c.reltuples
       FROM pg_inherits i
       JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_class c ON c.oid = i.inhrelid
       WHERE p.relnamespace = current_schema()::regnamespace AND p.relname = ANY($1::text[]))
     SELECT parent, child, bound = 'DEFAULT' AS is_default,
            (regexp_match(bound, 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz AS range_from,
            (regexp_match(bound, 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS range_to,
            greatest(reltuples, 0)::bigint AS estimated_rows,
            pg_total_relation_size(oid) AS bytes
     FROM parts
     ORDER BY parent, is_default DESC, range_from`,
    [tables],
  )) as {
    parent: string;
    child: string;
    is_default: boolean;
    range_from: Date | null;
    range_to: Date | null;
    estimated_rows: string;
    bytes: string;
  }[];
  return rows.map((r) => ({
    table: r.parent,
    partition: r.child,
    from: r.range_from,
    to: r.range_to,
    isDefault: r.is_default,
    estimatedRows: Number(r.estimated_rows),
    bytes: Number(r.bytes),
  }));
}

/** The periods that rows waiting in `spec`'s DEFAULT partition belong to, oldest first. */
export async function defaultPartitionPeriods(
  db: Queryable,
  spec: PartitionedTable,
): Promise<{ range: PartitionRange; rows: number }[]> {
  const rows = (await db.query(
    `SELECT date_trunc($1, ${quoteStrictIdent(spec.column)}, 'UTC') AS start, count(*) AS rows
     FROM ${quoteStrictIdent(defaultPartitionName(spec.table))} GROUP BY 1 ORDER BY 1`,
    [spec.period],
  )) as { start: Date; rows: string }[];
  return rows.map((r) => ({ range: partitionFor(spec, r.start), rows: Number(r.rows) }));
}

/**
 * Detaches and drops one partition. Must run inside a transaction: with a DEFAULT partition
 * DETACH … CONCURRENTLY is not allowed, so the caller sets a short lock_timeout and a run
 * that cannot get the parent's lock fails as a whole (nothing half-done) and is retried.
 */
export async function dropPartition(
  db: Queryable,
  table: string,
  partition: string,
): Promise<void> {
  await db.query(
    `ALTER TABLE ${quoteStrictIdent(table)} DETACH PARTITION ${quoteStrictIdent(partition)}`,
  );
  await db.query(`DROP TABLE ${quoteStrictIdent(partition)}`);
}
