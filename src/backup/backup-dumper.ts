import { Inject, Injectable } from '@nestjs/common';
import { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { ConnectionTarget, pgClientConfig } from '../database/data-source';
import { CONNECTION_TARGET } from '../database/database.service';
import { BackupKeyError, ENCRYPTION_PARAMS, encryptStream, parseBackupKey } from './backup-crypto';
import { HashTap, ensureDir, fsyncAndRename, removeQuietly, writeFileAtomic } from './backup-files';
import { BackupRepository, BackupRow } from './backup.repository';
import { PgProcessRunner, ShutdownInterrupt } from './pg-process';
import { BackupError, checkToolAgainstServer, collectStderr, connArgs } from './pg-tools';

const errnoType = (error: NodeJS.ErrnoException) =>
  error.code === 'ENOSPC' || error.code === 'EDQUOT' ? 'disk_full' : 'write_failed';

/**
 * Writes one backup: pg_dump (custom format) streamed through an optional AES-256-GCM
 * encryption into BACKUP_DIR, sha256 on the way, row counts from the same snapshot, and a
 * manifest beside the file. Publishes the file only when everything succeeded.
 */
@Injectable()
export class BackupDumper {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CONNECTION_TARGET) private readonly target: ConnectionTarget,
    private readonly backups: BackupRepository,
    private readonly tools: PgProcessRunner,
  ) {}

  async dump(row: BackupRow): Promise<BackupRow> {
    const dir = this.config.backup.dir;
    const key = this.encryptionKey();
    const pgDump = this.tools.resolve('pg_dump');
    const dumpVersion = await this.tools.version(pgDump);
    const server = await this.backups.serverVersion();
    checkToolAgainstServer('pg_dump', dumpVersion, server);
    try {
      await ensureDir(dir);
    } catch (error) {
      throw new BackupError(
        'dir_unwritable',
        `BACKUP_DIR ${dir} is not usable: ${(error as Error).message}`,
      );
    }

    const final = join(dir, row.file);
    const tmp = `${final}.tmp`;
    const manifestPath = `${final}.manifest.json`;
    const snapshotClient = new Client({
      ...pgClientConfig(this.target),
      application_name: 'trend-service-backup-snapshot',
    });
    // The session idles in its transaction for the whole dump; if the server ends it, pg
    // emits 'error' on the client, which must fail this backup rather than the process.
    let sessionError: Error | undefined;
    let child: ChildProcess | undefined;
    snapshotClient.on('error', (error) => {
      sessionError ??= error;
      if (child) this.tools.kill(child);
    });
    let published = false;
    try {
      let out: ReturnType<typeof createWriteStream>;
      try {
        // 'wx': never overwrite; owner-only because a backup holds every row.
        out = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
        await new Promise<void>((resolve, reject) =>
          out.once('open', () => resolve()).once('error', reject),
        );
      } catch (error) {
        throw new BackupError(
          'dir_unwritable',
          `BACKUP_DIR ${dir} is not writable: ${(error as Error).message}`,
        );
      }

      // One REPEATABLE READ snapshot shared by pg_dump and our row counts, so the counts are exact.
      await snapshotClient.connect();
      await snapshotClient.query('SET statement_timeout = 0');
      await snapshotClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const [{ snapshot }] = (
        await snapshotClient.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot')
      ).rows;

      const dumper = this.tools.spawn(
        pgDump,
        [
          '--format=custom',
          `--snapshot=${snapshot}`,
          '--lock-wait-timeout=60000',
          ...connArgs(this.target, this.target.database),
        ],
        this.target,
        ['ignore', 'pipe', 'pipe'],
      );
      child = dumper;
      const stderr = collectStderr(dumper);
      const exited = new Promise<number | string>((resolve, reject) => {
        dumper.once('error', reject);
        dumper.once('close', (code, signal) => resolve(signal ?? code ?? -1));
      });
      const plain = new HashTap();
      const stored = new HashTap();
      const writing = key
        ? pipeline(dumper.stdout!, plain, encryptStream(key), stored, out)
        : pipeline(dumper.stdout!, stored, out);
      // Wait for all three together, so each has a handler from the start (a rejection while
      // another is still running is never unhandled); the first failure stops pg_dump.
      const stopDump = (error: unknown) => {
        this.tools.kill(dumper);
        throw error;
      };
      const [written, exit, counted] = await Promise.allSettled([
        writing.catch(stopDump),
        exited,
        this.backups.snapshotRowCounts(snapshotClient).catch(stopDump),
      ]);
      if (sessionError)
        throw new BackupError(
          'dump_failed',
          `the snapshot session was closed during the dump: ${sessionError.message}`,
        );
      if (written.status === 'rejected') {
        const errno = written.reason as NodeJS.ErrnoException;
        const type = errno.code ? errnoType(errno) : 'dump_failed';
        throw new BackupError(
          type,
          type === 'disk_full'
            ? `disk full while writing ${row.file} after ${stored.bytes} bytes (${errno.message}); partial file removed`
            : `writing ${row.file} failed after ${stored.bytes} bytes: ${errno.message}`,
        );
      }
      if (exit.status === 'rejected')
        throw new BackupError(
          'dump_failed',
          `pg_dump could not run: ${(exit.reason as Error).message}`,
        );
      if (counted.status === 'rejected')
        throw new BackupError(
          'dump_failed',
          `counting rows in the snapshot failed: ${(counted.reason as Error).message}`,
        );
      const rowCounts = counted.value;
      try {
        await snapshotClient.query('COMMIT');
      } catch (error) {
        // Closed after the counts, before its 'error' event reached the handler above.
        throw new BackupError(
          'dump_failed',
          `the snapshot session was closed during the dump: ${(sessionError ?? (error as Error)).message}`,
        );
      }
      if (exit.value !== 0 && this.tools.shuttingDown) throw new ShutdownInterrupt('pg_dump');
      if (exit.value !== 0)
        throw new BackupError(
          'dump_failed',
          `pg_dump exited with ${exit.value}: ${stderr() || 'no output'}`,
        );
      const dumpBytes = key ? plain.bytes : stored.bytes;
      if (dumpBytes === 0) throw new BackupError('dump_failed', 'pg_dump produced no output');

      await fsyncAndRename(tmp, final, dir);
      published = true;
      const sha256 = stored.digest();
      const manifest: Record<string, unknown> = {
        manifestVersion: 1,
        backupId: row.id,
        database: this.target.database,
        file: row.file,
        format: 'pg_dump custom (--format=custom)',
        sha256,
        sizeBytes: stored.bytes,
        dumpBytes,
        serverVersion: server.version,
        pgDumpVersion: dumpVersion.version,
        startedAt: row.started_at.toISOString(),
        finishedAt: new Date().toISOString(),
        snapshot: { exported: snapshot, isolation: 'REPEATABLE READ' },
        rowCounts: {
          exact: true,
          source: 'count(*) in the snapshot pg_dump used',
          tables: rowCounts.tables,
          // Partitioned tables: the total under the parent's own name is also in `tables`.
          partitioned: rowCounts.partitioned,
        },
        encryption: key ? ENCRYPTION_PARAMS : null,
      };
      await writeFileAtomic(manifestPath, dir, JSON.stringify(manifest, null, 2) + '\n');
      return await this.backups.succeed(row.id, stored.bytes, sha256, manifest);
    } catch (error) {
      await removeQuietly(tmp);
      if (published) {
        await removeQuietly(final);
        await removeQuietly(manifestPath);
      }
      if (error instanceof BackupError || error instanceof ShutdownInterrupt) throw error;
      const errno = error as NodeJS.ErrnoException;
      if (errno.code === 'ENOSPC' || errno.code === 'EDQUOT')
        throw new BackupError('disk_full', `disk full: ${errno.message}`);
      throw new BackupError('dump_failed', errno.message);
    } finally {
      await snapshotClient.end().catch(() => undefined);
    }
  }

  private encryptionKey(): Buffer | null {
    const raw = this.config.backup.encryptionKey;
    if (raw === undefined) return null;
    try {
      return parseBackupKey(raw);
    } catch (error) {
      throw new BackupError('bad_key', (error as BackupKeyError).message);
    }
  }
}
