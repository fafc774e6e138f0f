import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { quoteIdent } from '../database/identifiers';
import { Queryable } from '../database/partitions';

export interface IndexRecord {
  table: string;
  index: string;
  method: string;
  bytes: number;
  pages: number;
  tuples: number;
  scans: number;
  valid: boolean;
  unique: boolean;
  primary: boolean;
  /** Average width of the key (and INCLUDE) columns from pg_stats; null without statistics. */
  keyWidth: number | null;
}

/** One row of the statement report (pg_stat_statements, normalized by the server). */
export interface StatementStats {
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  maxMs: number;
  rows: number;
}

export type StatementReport =
  { available: true; items: StatementStats[] } | { available: false; reason: string };

/** SQLSTATEs of "the extension is not there" and "installed but not preloaded". */
const STATEMENTS_UNAVAILABLE = new Set(['42P01', '42883', '55000']);

/**
 * Catalogue reads and the statements of index and statistics maintenance. The statements run
 * on the session the caller prepared (lock_timeout, no statement_timeout); names come from the
 * catalogue, so they are quoted whatever their spelling.
 */
@Injectable()
export class MaintenanceRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The statements of this database with the most total execution time, from
   * pg_stat_statements (already normalized: `$1` in place of values). Unavailable when the
   * extension is not created in this database or not in shared_preload_libraries.
   */
  async topStatements(limit: number): Promise<StatementReport> {
    const [installed] = (await this.dataSource.query(
      `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_stat_statements'`,
    )) as { schema: string }[];
    if (!installed) {
      return {
        available: false,
        reason:
          'pg_stat_statements is not installed in this database: add it to shared_preload_libraries, restart PostgreSQL, then CREATE EXTENSION pg_stat_statements',
      };
    }
    try {
      const rows = (await this.dataSource.query(
        `SELECT query, calls, total_exec_time, mean_exec_time, max_exec_time, rows
           FROM ${quoteIdent(installed.schema)}.pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          ORDER BY total_exec_time DESC
          LIMIT $1`,
        [limit],
      )) as Record<string, string | number>[];
      return {
        available: true,
        items: rows.map((r) => ({
          query: String(r.query),
          calls: Number(r.calls),
          totalMs: Number(r.total_exec_time),
          meanMs: Number(r.mean_exec_time),
          maxMs: Number(r.max_exec_time),
          rows: Number(r.rows),
        })),
      };
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!STATEMENTS_UNAVAILABLE.has(code)) throw error;
      return {
        available: false,
        reason: `pg_stat_statements is installed but cannot be read (${(error as Error).message}): it must be in shared_preload_libraries`,
      };
    }
  }

  /**
   * Every index with storage in the service's schema (leaf partitions' indexes, not the
   * partitioned parents' catalogue-only ones), with size, scans and the statistics the
   * bloat estimate needs.
   */
  async indexes(): Promise<IndexRecord[]> {
    const rows = (await this.dataSource.query(
      `WITH widths AS (
         SELECT x.indexrelid,
                sum(s.avg_width) AS key_width,
                count(s.avg_width) = cardinality(x.indkey::int2[]) AS complete
         FROM pg_index x
         CROSS JOIN LATERAL unnest(x.indkey::int2[]) AS k(attnum)
         JOIN pg_class t ON t.oid = x.indrelid
         LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
         LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = t.relname
                              AND s.attname = a.attname AND NOT s.inherited
         WHERE t.relnamespace = current_schema()::regnamespace
         GROUP BY x.indexrelid, x.indkey)
       SELECT t.relname AS table_name, i.relname AS index_name, am.amname AS method,
              pg_relation_size(i.oid) AS bytes, i.relpages AS pages, greatest(i.reltuples, 0) AS tuples,
              coalesce(st.idx_scan, 0) AS scans, x.indisvalid AS valid,
              x.indisunique AS is_unique, x.indisprimary AS is_primary,
              CASE WHEN w.complete THEN w.key_width END AS key_width
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_am am ON am.oid = i.relam
       LEFT JOIN pg_stat_user_indexes st ON st.indexrelid = i.oid
       LEFT JOIN widths w ON w.indexrelid = i.oid
       WHERE i.relkind = 'i' AND t.relnamespace = current_schema()::regnamespace
       ORDER BY t.relname, i.relname`,
    )) as {
      table_name: string;
      index_name: string;
      method: string;
      bytes: string;
      pages: number;
      tuples: number;
      scans: string;
      valid: boolean;
      is_unique: boolean;
      is_primary: boolean;
      key_width: string | null;
    }[];
    return rows.map((r) => ({
      table: r.table_name,
      index: r.index_name,
      method: r.method,
      bytes: Number(r.bytes),
      pages: Number(r.pages),
      tuples: Number(r.tuples),
      scans: Number(r.scans),
      valid: r.valid,
      unique: r.is_unique,
      primary: r.is_primary,
      keyWidth: r.key_width === null ? null : Number(r.key_width),
    }));
  }

  /** Since when index scan counts accumulate (null: never reset). */
  async statsSince(): Promise<Date | null> {
    const [row] = (await this.dataSource.query(
      `SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()`,
    )) as { stats_reset: Date | null }[];
    return row?.stats_reset ?? null;
  }

  /** Plain tables and leaf partitions written to since they were last analyzed. */
  async tablesToAnalyze(): Promise<{ table: string; modified: number }[]> {
    const rows = (await this.dataSource.query(
      `SELECT s.relname AS table_name, s.n_mod_since_analyze AS modified
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
       WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
         AND s.n_mod_since_analyze > 0
       ORDER BY s.relname`,
    )) as { table_name: string; modified: string }[];
    return rows.map((r) => ({ table: r.table_name, modified: Number(r.modified) }));
  }

  /**
   * Invalid copies a failed REINDEX CONCURRENTLY leaves on `table` (`<index>_ccnew`, possibly
   * with the base name truncated to fit 63 bytes, or `_ccnew1`, …).
   */
  async leftoverCopies(table: string): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `SELECT i.relname FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = $1
         AND NOT x.indisvalid AND i.relname ~ '_ccnew[0-9]*$'`,
      [table],
    )) as { relname: string }[];
    return rows.map((r) => r.relname);
  }

  async blockSize(): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT current_setting('block_size')::int AS size`,
    )) as { size: number }[];
    return row.size;
  }

  async analyze(db: Queryable, table: string): Promise<void> {
    await db.query(`ANALYZE ${quoteIdent(table)}`);
  }

  /** Must run outside a transaction: REINDEX CONCURRENTLY refuses to run in one. */
  async reindexConcurrently(db: Queryable, index: string): Promise<void> {
    await db.query(`REINDEX INDEX CONCURRENTLY ${quoteIdent(index)}`);
  }

  /** Must run outside a transaction, like REINDEX CONCURRENTLY. */
  async dropIndexConcurrently(db: Queryable, index: string): Promise<void> {
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${quoteIdent(index)}`);
  }
}
