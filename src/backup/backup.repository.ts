import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CursorPosition, cursorTimeSql, keysetAfter } from '../common/cursor';
import { AdvisoryLock } from '../database/advisory-lock';
import { quoteIdent, quoteQualifiedName } from '../database/identifiers';
import { serverMajor } from './pg-tools';

/** Exact row counts by schema-qualified, quoted table name. */
export type RowCounts = Record<string, number>;

/** Where an off-site copy stands (SPEC §15). */
export interface OffsiteState {
  key: string;
  status: 'uploaded' | 'failed' | 'deleted';
  uploadedAt: string | null;
  error: string | null;
  sizeBytes?: number;
  sha256?: string;
  attempts?: number;
}

/** A background verify or restore as recorded on the backup. */
export type TaskStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'skipped_locked';

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
  offsite: OffsiteState | null;
  restore: Record<string, unknown> | null;
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
  /** Duration of the last successful scratch restore (verify): the measured RTO. */
  restoreDurationMs: number | null;
  offsite: OffsiteState | null;
  restore: Record<string, unknown> | null;
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
    restoreDurationMs:
      typeof r.verification?.restoreDurationMs === 'number'
        ? r.verification.restoreDurationMs
        : null,
    offsite: r.offsite,
    restore: r.restore,
    manifest: r.manifest,
  };
}

const COLUMNS = `id, file, size_bytes, sha256, status, encrypted, trigger, started_at, finished_at,
  verified_at, deleted_at, error, manifest, verification, offsite, restore`;

/**
 * A task recorded `running` whose job lock ($2) nobody holds was left by a process that
 * stopped (crash, SIGKILL): a new claim may take it over. A live run always holds the lock.
 */
const LOCK_FREE = `NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
  AND classid = 0 AND objid = $2 AND objsubid = 1)`;

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

  /**
   * Marks a verification as started unless one is already running for this backup (then
   * false). The previous outcome stays readable under `previous`.
   */
  async claimVerification(id: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `UPDATE backups SET verification = jsonb_build_object('status', 'running',
         'startedAt', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'previous', CASE WHEN verification ? 'status' THEN verification->'previous' ELSE verification END)
       WHERE id = $1 AND (verification IS NULL OR verification->>'status' IS DISTINCT FROM 'running'
         OR ${LOCK_FREE})
       RETURNING id`,
      [id, AdvisoryLock.BackupVerify],
    )) as [unknown[], number];
    return rows[0].length > 0;
  }

  async claimRestore(id: string, details: Record<string, unknown>): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `UPDATE backups SET restore = $3
       WHERE id = $1 AND (restore IS NULL OR restore->>'status' IS DISTINCT FROM 'running'
         OR ${LOCK_FREE})
       RETURNING id`,
      [
        id,
        AdvisoryLock.BackupRestore,
        json({ ...details, status: 'running', startedAt: new Date().toISOString() }),
      ],
    )) as [unknown[], number];
    return rows[0].length > 0;
  }

  async recordRestore(id: string, restore: Record<string, unknown>): Promise<void> {
    await this.dataSource.query(`UPDATE backups SET restore = $2 WHERE id = $1`, [
      id,
      json(restore),
    ]);
  }

  async recordOffsite(id: string, offsite: OffsiteState): Promise<void> {
    await this.dataSource.query(`UPDATE backups SET offsite = $2 WHERE id = $1`, [
      id,
      json(offsite),
    ]);
  }

  /** Succeeded, not deleted backups whose off-site copy is missing or failed (oldest first). */
  async pendingOffsite(): Promise<BackupRow[]> {
    return (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM backups
       WHERE status = 'succeeded' AND deleted_at IS NULL
         AND (offsite IS NULL OR offsite->>'status' = 'failed')
       ORDER BY started_at`,
    )) as BackupRow[];
  }

  async latestOffsiteUpload(): Promise<Date | null> {
    const [row] = (await this.dataSource.query(
      `SELECT max((offsite->>'uploadedAt')::timestamptz) AS at FROM backups WHERE offsite->>'status' = 'uploaded'`,
    )) as { at: Date | null }[];
    return row.at;
  }

  async latestRestoreDurationMs(): Promise<number | null> {
    const [row] = (await this.dataSource.query(
      `SELECT (verification->>'restoreDurationMs')::float8 AS ms FROM backups
       WHERE verification ? 'restoreDurationMs' ORDER BY verified_at DESC NULLS LAST LIMIT 1`,
    )) as { ms: number | null }[] | [];
    return row?.ms ?? null;
  }

  async recordVerification(
    id: string,
    verification: Record<string, unknown>,
    ok: boolean,
  ): Promise<void> {
    // An interrupted run says nothing about the backup: the outcome before it stays readable.
    await this.dataSource.query(
      `UPDATE backups SET verification = CASE WHEN $2::jsonb->>'status' = 'interrupted'
           THEN $2::jsonb || jsonb_build_object('previous', verification->'previous') ELSE $2::jsonb END,
         verified_at = CASE WHEN $3 THEN clock_timestamp() ELSE verified_at END
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
  async snapshotRowCounts(
    client: Client,
  ): Promise<{ tables: RowCounts; partitioned: Record<string, string[]> }> {
    const tables = (
      await client.query<{ name: string; kind: string; leaves: string[] | null }>(
        `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, c.relkind::text AS kind,
           CASE WHEN c.relkind = 'p' THEN ARRAY(
             SELECT quote_ident(ln.nspname) || '.' || quote_ident(l.relname)
             FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid
             JOIN pg_namespace ln ON ln.oid = l.relnamespace
             WHERE t.isleaf ORDER BY 1) END AS leaves
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
         ORDER BY 1`,
      )
    ).rows;
    const counts: RowCounts = {};
    const partitioned: Record<string, string[]> = {};
    // Partitions one by one, and each partitioned table's total under its own name (its
    // count(*) in the same snapshot, so it equals the sum of its partitions).
    for (const { name, kind, leaves } of tables) {
      counts[name] = await this.countRows(client, name);
      if (kind === 'p') partitioned[name] = leaves ?? [];
    }
    return { tables: counts, partitioned };
  }

  /**
   * count(*) of one table; `name` is a quoted name as snapshotRowCounts returns it, read back
   * from a manifest, so it is re-quoted (a name that does not parse throws).
   */
  async countRows(client: Client, name: string): Promise<number> {
    const [{ n }] = (
      await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteQualifiedName(name)}`)
    ).rows;
    return Number(n);
  }
}
