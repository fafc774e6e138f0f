import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { quoteStrictIdent } from '../database/identifiers';

export interface RetentionPolicyView {
  table: string;
  keepDays: number;
  enabled: boolean;
  updatedAt: string;
  updatedBy: string | null;
}

interface PolicyRecord {
  table_name: string;
  keep_days: number;
  enabled: boolean;
  updated_at: Date;
  updated_by: string | null;
}

const toView = (r: PolicyRecord): RetentionPolicyView => ({
  table: r.table_name,
  keepDays: r.keep_days,
  enabled: r.enabled,
  updatedAt: r.updated_at.toISOString(),
  updatedBy: r.updated_by,
});

/** Non-partitioned tables trimmed row-wise, and the column that dates their rows. */
export const TRIMMED_TABLES: Readonly<Record<string, string>> = {
  job_runs: 'started_at',
  admin_audit_log: 'at',
};

/** A trimmed table's quoted name; anything not in TRIMMED_TABLES is a bug and throws. */
function trimmedTable(table: string): string {
  if (!Object.hasOwn(TRIMMED_TABLES, table)) throw new Error(`not a trimmed table: ${table}`);
  return quoteStrictIdent(table);
}

function trimmedColumn(table: string): string {
  return quoteStrictIdent(TRIMMED_TABLES[table]);
}

/** SQL behind retention: policies, batched trims, catalogue clean-up. */
@Injectable()
export class RetentionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Exact row counts of the given DEFAULT partitions (rows no range partition took, which the
   * retention job moves out). They are meant to be nearly empty, so counting is cheap, and the
   * planner's estimate stays 0 there until the partition is first analyzed.
   */
  async countRows(partitions: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const partition of partitions) {
      const [row] = (await this.dataSource.query(
        `SELECT count(*) AS n FROM ${quoteStrictIdent(partition)}`,
      )) as { n: string }[];
      counts.set(partition, Number(row.n));
    }
    return counts;
  }

  async policies(): Promise<RetentionPolicyView[]> {
    const rows = (await this.dataSource.query(
      `SELECT table_name, keep_days, enabled, updated_at, updated_by FROM retention_policies ORDER BY table_name`,
    )) as PolicyRecord[];
    return rows.map(toView);
  }

  async updatePolicy(
    manager: EntityManager,
    table: string,
    keepDays: number,
    enabled: boolean | undefined,
    actor: string,
  ): Promise<{ before: RetentionPolicyView; after: RetentionPolicyView } | undefined> {
    const before = (await manager.query(
      `SELECT table_name, keep_days, enabled, updated_at, updated_by FROM retention_policies
       WHERE table_name = $1 FOR UPDATE`,
      [table],
    )) as PolicyRecord[];
    if (before.length === 0) return undefined;
    const [rows] = (await manager.query(
      `UPDATE retention_policies
       SET keep_days = $2, enabled = coalesce($3, enabled), updated_at = now(), updated_by = $4
       WHERE table_name = $1
       RETURNING table_name, keep_days, enabled, updated_at, updated_by`,
      [table, keepDays, enabled ?? null, actor],
    )) as [PolicyRecord[], number];
    return { before: toView(before[0]), after: toView(rows[0]) };
  }

  /** Rows of a trimmed table older than `before` (for a dry run). */
  async countOlder(table: string, before: Date): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*) AS n FROM ${trimmedTable(table)} WHERE ${trimmedColumn(table)} < $1`,
      [before],
    )) as { n: string }[];
    return Number(row.n);
  }

  /**
   * Deletes rows older than `before` in batches of `batch`, each its own short statement,
   * so a large backlog never holds long locks or bloats one transaction.
   */
  async trimOlder(table: string, before: Date, batch: number): Promise<number> {
    const name = trimmedTable(table);
    const column = trimmedColumn(table);
    let total = 0;
    for (;;) {
      const [, count] = (await this.dataSource.query(
        `DELETE FROM ${name} WHERE id IN (
           SELECT id FROM ${name} WHERE ${column} < $1 ORDER BY id LIMIT $2)`,
        [before, batch],
      )) as [unknown, number];
      total += count;
      if (count < batch) return total;
    }
  }

  async countCatalogOlder(before: Date): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*) AS n FROM trend_catalog WHERE last_seen_at < $1`,
      [before],
    )) as { n: string }[];
    return Number(row.n);
  }

  async trimCatalogOlder(before: Date, batch: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [, count] = (await this.dataSource.query(
        `DELETE FROM trend_catalog WHERE trend_key IN (
           SELECT trend_key FROM trend_catalog WHERE last_seen_at < $1 LIMIT $2)`,
        [before, batch],
      )) as [unknown, number];
      total += count;
      if (count < batch) return total;
    }
  }
}
