import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CursorPosition, cursorTimeSql, keysetAfter } from '../common/cursor';
import { quoteIdent } from '../database/identifiers';
import { serverMajor } from './pg-tools';

/** Exact row counts by schema-qualified, quoted table name. */
export type RowCounts = Record<string, number>;

export type BackupStatus = 'running' | 'succeeded' | 'failed';

export interface BackupRow {
  id: string;
  file: string;
  size_bytes: string | null;
  sha256: string | null;
  status: BackupStatus;
  encrypted: boolean;
  trigger: string;
  started_at: Date;
  finished_at: Date | null;
  verified_at: Date | null;
  deleted_at: Date | null;
  error: string | null;
  manifest: Record<string, unknown> | null;
  verification: Record<string, unknown> | null;
}

export interface BackupView {
  id: string;
  status: BackupStatus;
  file: string;
  sizeBytes: number | null;
  sha256: string | null;
  encrypted: boolean;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  verifiedAt: string | null;
  deletedAt: string | null;
  error: string | null;
  verification: Record<string, unknown> | null;
  manifest: Record<string, unknown> | null;
}

export function toBackupView(r: BackupRow): BackupView {
  return {
    id: r.id,
    status: r.status,
    file: r.file,
    sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
    sha256: r.sha256,
    encrypted: r.encrypted,
    trigger: r.trigger,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
    durationMs: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
    verifiedAt: r.verified_at?.toISOString() ?? null,
    deletedAt: r.deleted_at?.toISOString() ?? null,
    error: r.error,
    verification: r.verification,
    manifest: r.manifest,
  };
}

const COLUMNS = `id, file, size_bytes, sha256, status, encrypted, trigger, started_at, finished_at,
  verified_at, deleted_at, error, manifest, verification`;

const json = (value: unknown) => (value === null ? null : JSON.stringify(value));

/**
 * The backups ledger, and the SQL around dumps and restores: server version, scratch and
 * restore databases, exact row counts (on the snapshot or scratch session the caller holds).
 */
@Injectable()
export class BackupRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(id: string, file: string, encrypted: boolean, trigger: string): Promise<BackupRow> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO backups (id, file, status, encrypted, trigger, started_at)
       VALUES ($1, $2, 'running', $3, $4, clock_timestamp()) RETURNING ${COLUMNS}`,
      [id, file, encrypted, trigger],
    )) as BackupRow[];
    return row;
  }

  async get(id: string): Promise<BackupRow | undefined> {
    const rows = (await this.dataSource.query(`SELECT ${COLUMNS} FROM backups WHERE id = $1`, [
      id,
    ])) as BackupRow[];
    return rows[0];
  }

  /** Newest first on (started_at, id); `after` is the keyset position of a cursor. */
  async list(
    limit: number,
    after?: CursorPosition,
  ): Promise<(BackupRow & { at_cursor: string })[]> {
    const params: unknown[] = [];
    const add = (v: unknown) => `$${params.push(v)}`;
    const where = keysetAfter(after, 'started_at', 'id', 'text', add);
    return (await this.dataSource.query(
      `SELECT ${COLUMNS}, ${cursorTimeSql('started_at')} AS at_cursor FROM backups
       WHERE ${where} ORDER BY started_at DESC, id DESC LIMIT ${add(limit)}`,
      params,
    )) as (BackupRow & { at_cursor: string })[];
  }

  async succeed(
    id: string,
    sizeBytes: number,
    sha256: string,
    manifest: Record<string, unknown>,
  ): Promise<BackupRow> {
    const [rows] = (await this.dataSource.query(
      `UPDATE backups SET status = 'succeeded', finished_at = clock_timestamp(), size_bytes = $2, sha256 = $3,
         manifest = $4, error = NULL
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, sizeBytes, sha256, json(manifest)],
    )) as [BackupRow[], number];
    return rows[0];
  }

  async fail(
    id: string,
    error: string,
    manifest: Record<string, unknown> | null = null,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE backups SET status = 'failed', finished_at = clock_timestamp(), error = $2,
         manifest = COALESCE($3, manifest)
       WHERE id = $1`,
      [id, error, json(manifest)],
    );
  }

  /** Rows left `running` by a crashed process (the caller holds the backup lock, so none is live). */
  async failInterrupted(before: Date): Promise<BackupRow[]> {
    const [rows] = (await this.dataSource.query(
      `UPDATE backups SET status = 'failed', finished_at = clock_timestamp(),
         error = 'interrupted: the process running this backup stopped before it finished'
       WHERE status = 'running' AND started_at < $1 RETURNING ${COLUMNS}`,
      [before],
    )) as [BackupRow[], number];
    return rows;
  }

  async recordVerification(
    id: string,
    verification: Record<string, unknown>,
    ok: boolean,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE backups SET verification = $2, verified_at = CASE WHEN $3 THEN clock_timestamp() ELSE verified_at END
       WHERE id = $1`,
      [id, json(verification), ok],
    );
  }

  /** Candidates for rotation: succeeded backups whose files are still there. */
  async rotationCandidates(): Promise<BackupRow[]> {
    return (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM backups WHERE status = 'succeeded' AND deleted_at IS NULL ORDER BY started_at DESC`,
    )) as BackupRow[];
  }

  async markDeleted(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE backups SET deleted_at = clock_timestamp() WHERE id = $1`, [
      id,
    ]);
  }

  /** Latest success and verification, to seed the gauges after a restart. */
  async latest(): Promise<{ success: BackupRow | undefined; verifiedAt: Date | null }> {
    const success = (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM backups WHERE status = 'succeeded' ORDER BY finished_at DESC LIMIT 1`,
    )) as BackupRow[];
    const [verified] = (await this.dataSource.query(
      `SELECT max(verified_at) AS at FROM backups`,
    )) as { at: Date | null }[];
    return { success: success[0], verifiedAt: verified.at };
  }

  async serverVersion(): Promise<{ major: number; version: string }> {
    const [row] = (await this.dataSource.query(
      `SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS version`,
    )) as { num: number; version: string }[];
    return { major: serverMajor(row.num), version: row.version.split(' ')[0] };
  }

  async databaseExists(name: string): Promise<boolean> {
    const rows = (await this.dataSource.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      name,
    ])) as unknown[];
    return rows.length > 0;
  }

  /** An empty database (from template0, which pg_restore needs) named by an operator or by us. */
  async createDatabase(name: string): Promise<void> {
    await this.dataSource.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.dataSource.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  }

  /**
   * Exact count(*) of every ordinary table seen by `client`'s snapshot (partitions counted one
   * by one, parents not double-counted). Names come back quoted by quote_ident.
   */
  async snapshotRowCounts(client: Client): Promise<RowCounts> {
    const tables = (
      await client.query<{ name: string }>(
        `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND c.relpersistence <> 't'
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
         ORDER BY 1`,
      )
    ).rows;
    const counts: RowCounts = {};
    for (const { name } of tables) counts[name] = await this.countRows(client, name);
    return counts;
  }

  /** count(*) of one table; `name` is a quoted name as snapshotRowCounts returns it. */
  async countRows(client: Client, name: string): Promise<number> {
    const [{ n }] = (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)).rows;
    return Number(n);
  }
}
