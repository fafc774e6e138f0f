import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
  OnModuleInit,
  UnprocessableEntityException,
} from '@nestjs/common';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { AuditService } from '../audit/audit.service';
import { CacheService } from '../cache/cache.service';
import { badParameter } from '../common/field-errors';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { ConnectionTarget, pgClientConfig } from '../database/data-source';
import { CONNECTION_TARGET, DatabaseService } from '../database/database.service';
import { JobScheduler } from '../jobs/job-scheduler';
import { JobOutcome, JobFailure, JobsService } from '../jobs/jobs.service';
import { JobTrigger } from '../jobs/job-names';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import {
  BackupKeyError,
  ENCRYPTION_PARAMS,
  decryptStream,
  encryptStream,
  parseBackupKey,
} from './backup-crypto';
import {
  HashTap,
  ensureDir,
  fsyncAndRename,
  removeQuietly,
  sha256File,
  writeFileAtomic,
} from './backup-files';
import {
  BackupRepository,
  BackupRow,
  BackupView,
  RowCounts,
  toBackupView,
} from './backup.repository';
import {
  BackupError,
  PgTool,
  checkToolAgainstServer,
  collectStderr,
  connArgs,
  pgEnv,
  resolvePgTool,
  runTool,
  scratchDatabaseName,
  toolVersion,
} from './pg-tools';
import { planRotation } from './rotation';

export type VerifyStep = 'file' | 'checksum' | 'decrypt' | 'list' | 'restore' | 'row_counts';

export interface VerificationResult extends Record<string, unknown> {
  backupId: string;
  ok: boolean;
  checkedAt: string;
  failedStep: VerifyStep | null;
  error: string | null;
  steps: Partial<Record<VerifyStep, 'ok' | 'failed' | 'skipped'>>;
  archiveEntries?: number;
  scratchDatabase?: string;
  tablesCompared?: number;
  mismatches?: { table: string; expected: number; actual: number | null }[];
}

export interface RestoreOptions {
  targetDatabase?: string;
  force?: boolean;
}

export interface RestoreResult extends Record<string, unknown> {
  backupId: string;
  targetDatabase: string;
  overLiveDatabase: boolean;
  durationMs: number;
  rowCounts: {
    tablesCompared: number;
    mismatches: { table: string; expected: number; actual: number | null }[];
  };
}

const DB_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

/** Backup ids sort by time and are safe in file and database names: 20261121T020000Z-a1b2c3. */
export function newBackupId(now = new Date()): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

const errnoType = (error: NodeJS.ErrnoException) =>
  error.code === 'ENOSPC' || error.code === 'EDQUOT' ? 'disk_full' : 'write_failed';

/**
 * pg_dump backups (streamed, optionally AES-256-GCM encrypted, checksummed, with a manifest),
 * verification by a real restore into a scratch database, restore, and GFS rotation. The API,
 * the cron and the CLI all call these methods; every run goes through the jobs runner.
 */
@Injectable()
export class BackupService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(BackupService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CONNECTION_TARGET) private readonly target: ConnectionTarget,
    private readonly backups: BackupRepository,
    private readonly jobs: JobsService,
    private readonly scheduler: JobScheduler,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly cache: CacheService,
    private readonly database: DatabaseService,
  ) {}

  onModuleInit(): void {
    // Gauges start at 0 in a new process; seeded from the ledger so BackupTooOld does not
    // fire after every deploy.
    this.database.onReady(() => this.seedMetrics());
  }

  /** backup_last_success/verified_timestamp_seconds and backup_size_bytes from the ledger. */
  async seedMetrics(): Promise<void> {
    try {
      const { success, verifiedAt } = await this.backups.latest();
      if (success?.finished_at) {
        this.metrics.backupLastSuccess.set(success.finished_at.getTime() / 1000);
        this.metrics.backupSize.set(Number(success.size_bytes));
      }
      if (verifiedAt) this.metrics.backupLastVerified.set(verifiedAt.getTime() / 1000);
    } catch (error) {
      this.logger.warn(`backup gauges not seeded: ${(error as Error).message}`);
    }
  }

  onApplicationBootstrap(): void {
    // A thin cron: the scheduled run is the same backup, followed by verify and rotation.
    this.scheduler.schedule(
      'backup',
      this.config.backup.cron,
      this.config.backup.enabled,
      async () => {
        const row = await this.insertRow('cron');
        return this.perform(row, { verify: this.config.backup.verify, rotate: true });
      },
    );
  }

  // ---- queries ---------------------------------------------------------------------------

  async list(limit = 100): Promise<BackupView[]> {
    return (await this.backups.list(limit)).map(toBackupView);
  }

  async get(id: string): Promise<BackupView> {
    return toBackupView(await this.mustGet(id));
  }

  private async mustGet(id: string): Promise<BackupRow> {
    const row = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await this.backups.get(id) : undefined;
    if (!row) throw new NotFoundException(`backup ${id} not found`);
    return row;
  }

  // ---- create ----------------------------------------------------------------------------

  /** API: records the row, answers at once and lets the job run in the background. */
  async start(actor: string, trigger: JobTrigger = 'api'): Promise<{ id: string }> {
    const row = await this.auditedInsert(actor, trigger);
    void this.runBackupJob(row, { verify: false, rotate: false }).catch((error: Error) =>
      this.logger.error(`backup ${row.id} could not run: ${error.message}`),
    );
    return { id: row.id };
  }

  /** CLI: the same run, awaited. */
  async createAndWait(
    actor: string,
    options: { verify: boolean; rotate: boolean },
  ): Promise<BackupView> {
    const row = await this.auditedInsert(actor, 'cli');
    await this.runBackupJob(row, options);
    return this.get(row.id);
  }

  /** The request is audited, also when even its ledger row cannot be written. */
  private auditedInsert(actor: string, trigger: JobTrigger): Promise<BackupRow> {
    const id = newBackupId();
    return this.audit.around(
      actor,
      'backup.create',
      id,
      { trigger },
      () => this.insertRow(trigger, id),
      (row) => ({ file: row.file }),
    );
  }

  private async insertRow(trigger: JobTrigger, id = newBackupId()): Promise<BackupRow> {
    const base = this.target.database.toLowerCase().replace(/[^a-z0-9_-]+/g, '_');
    const encrypted = this.config.backup.encryptionKey !== undefined;
    return this.backups.insert(
      id,
      `${base}-${id}.dump${encrypted ? '.enc' : ''}`,
      encrypted,
      trigger,
    );
  }

  private async runBackupJob(
    row: BackupRow,
    options: { verify: boolean; rotate: boolean },
  ): Promise<JobOutcome<Record<string, unknown>>> {
    const outcome = await this.jobs.run('backup', row.trigger as JobTrigger, () =>
      this.perform(row, options),
    );
    if (outcome.status === 'skipped_locked') {
      await this.backups.fail(row.id, 'skipped: another backup is running (advisory lock held)');
      this.metrics.errors.inc({ service: 'backup', type: 'locked' });
    }
    return outcome;
  }

  /** The job body: dump, then (optionally) verify and rotate. Throws JobFailure on failure. */
  private async perform(
    row: BackupRow,
    options: { verify: boolean; rotate: boolean },
  ): Promise<Record<string, unknown>> {
    await this.cleanInterrupted(row.started_at);
    const started = performance.now();
    let done: BackupRow;
    try {
      done = await this.dump(row);
    } catch (error) {
      const type = error instanceof BackupError ? error.type : 'dump_failed';
      const message = (error as Error).message;
      this.metrics.errors.inc({ service: 'backup', type });
      await this.backups.fail(row.id, message);
      throw new JobFailure(message, { backupId: row.id, type });
    }
    const seconds = (performance.now() - started) / 1000;
    this.metrics.backupDuration.observe(seconds);
    this.metrics.backupSize.set(Number(done.size_bytes));
    this.metrics.backupLastSuccess.set((done.finished_at ?? new Date()).getTime() / 1000);
    const details: Record<string, unknown> = {
      backupId: row.id,
      file: done.file,
      sizeBytes: Number(done.size_bytes),
      sha256: done.sha256,
      durationMs: Math.round(seconds * 1000),
    };
    if (options.rotate) details.rotation = await this.rotate();
    if (options.verify) {
      const verification = await this.verifyBackup(done);
      details.verification = verification;
      if (!verification.ok) {
        throw new JobFailure(
          `backup ${row.id} written but verification failed at ${verification.failedStep}: ${verification.error}`,
          details,
        );
      }
    }
    return details;
  }

  /** Rows left running by a crashed process: fail them and remove their partial files. */
  private async cleanInterrupted(before: Date): Promise<void> {
    for (const stale of await this.backups.failInterrupted(before)) {
      await removeQuietly(join(this.config.backup.dir, `${stale.file}.tmp`));
      this.logger.warn(`backup ${stale.id} was interrupted earlier; marked failed`);
    }
  }

  private async dump(row: BackupRow): Promise<BackupRow> {
    const dir = this.config.backup.dir;
    const key = this.encryptionKey();
    const pgDump = resolvePgTool('pg_dump', this.config.backup.pgBinDir);
    const dumpVersion = await toolVersion(pgDump);
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
    let child: ReturnType<typeof spawn> | undefined;
    snapshotClient.on('error', (error) => {
      sessionError ??= error;
      child?.kill('SIGTERM');
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

      const dumper = spawn(
        pgDump,
        [
          '--format=custom',
          `--snapshot=${snapshot}`,
          '--lock-wait-timeout=60000',
          ...connArgs(this.target, this.target.database),
        ],
        { env: pgEnv(this.target), stdio: ['ignore', 'pipe', 'pipe'] },
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
        ? pipeline(dumper.stdout, plain, encryptStream(key), stored, out)
        : pipeline(dumper.stdout, stored, out);
      // Wait for all three together, so each has a handler from the start (a rejection while
      // another is still running is never unhandled); the first failure stops pg_dump.
      const stopDump = (error: unknown) => {
        dumper.kill('SIGTERM');
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
      await snapshotClient.query('COMMIT');
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
          tables: rowCounts,
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
      if (error instanceof BackupError) throw error;
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

  // ---- verify ----------------------------------------------------------------------------

  /** API/CLI: verify under the backup-verify lock; answers with the verification either way. */
  verify(id: string, actor: string, trigger: JobTrigger): Promise<VerificationResult> {
    return this.audit.around(
      actor,
      'backup.verify',
      id,
      { trigger },
      () => this.runVerify(id, trigger),
      (result) => ({
        status: result.ok ? 'succeeded' : 'failed',
        failedStep: result.failedStep,
        error: result.error,
      }),
    );
  }

  private async runVerify(id: string, trigger: JobTrigger): Promise<VerificationResult> {
    const row = await this.mustGet(id);
    this.assertRestorable(row);
    let result: VerificationResult | undefined;
    const outcome = await this.jobs.run('backup-verify', trigger, async () => {
      result = await this.verifyBackup(row);
      if (!result.ok)
        throw new JobFailure(
          `verification of ${id} failed at ${result.failedStep}: ${result.error}`,
          result,
        );
      return result;
    });
    if (outcome.status === 'skipped_locked')
      throw new ConflictException('another verification is running; try again later');
    if (!result) throw new Error(outcome.error ?? 'verification did not run');
    return result;
  }

  private assertRestorable(row: BackupRow): void {
    if (row.deleted_at) throw new ConflictException(`backup ${row.id} was deleted by rotation`);
    if (row.status !== 'succeeded')
      throw new ConflictException(
        `backup ${row.id} is ${row.status}; only succeeded backups can be used`,
      );
  }

  private async verifyBackup(row: BackupRow): Promise<VerificationResult> {
    const result: VerificationResult = {
      backupId: row.id,
      ok: false,
      checkedAt: new Date().toISOString(),
      failedStep: null,
      error: null,
      steps: {},
    };
    let step: VerifyStep = 'file';
    const scratch = scratchDatabaseName(this.target.database, 'verify', row.id);
    let archive: { path: string; cleanup: () => Promise<void> } | undefined;
    let scratchCreated = false;
    try {
      archive = await this.openArchive(row, (s) => {
        result.steps[step] = 'ok';
        step = s;
      });
      result.steps.decrypt = row.encrypted ? 'ok' : 'skipped';
      step = 'list';
      const pgRestore = await this.tool('pg_restore');
      const listing = await runTool(
        pgRestore,
        ['--list', archive.path],
        process.env,
        'list_failed',
      );
      result.archiveEntries = listing.stdout
        .split('\n')
        .filter((l) => l && !l.startsWith(';')).length;
      result.steps.list = 'ok';

      step = 'restore';
      result.scratchDatabase = scratch;
      await this.backups.dropDatabase(scratch);
      await this.backups.createDatabase(scratch);
      scratchCreated = true;
      await this.pgRestore(pgRestore, archive.path, scratch);
      result.steps.restore = 'ok';

      step = 'row_counts';
      const compared = await this.compareRowCounts(row, scratch);
      result.tablesCompared = compared.tablesCompared;
      result.mismatches = compared.mismatches;
      if (compared.mismatches.length) {
        throw new Error(
          `row counts differ from the manifest in ${compared.mismatches.length} table(s): ` +
            compared.mismatches
              .slice(0, 3)
              .map((m) => `${m.table} expected ${m.expected}, got ${m.actual}`)
              .join('; '),
        );
      }
      result.steps.row_counts = 'ok';
      result.ok = true;
    } catch (error) {
      result.steps[step] = 'failed';
      result.failedStep = step;
      result.error = (error as Error).message;
      this.metrics.errors.inc({ service: 'backup', type: `verify_${step}` });
    } finally {
      if (scratchCreated)
        await this.backups
          .dropDatabase(scratch)
          .catch((e: Error) => this.logger.error(`could not drop ${scratch}: ${e.message}`));
      await archive?.cleanup();
    }
    await this.backups.recordVerification(row.id, result, result.ok);
    if (result.ok) this.metrics.backupLastVerified.set(Date.now() / 1000);
    return result;
  }

  /**
   * Checks the file and its checksum, and for encrypted backups decrypts (authenticating) into
   * a temporary owner-only file, so pg_restore never reads unauthenticated bytes.
   */
  private async openArchive(
    row: BackupRow,
    onStep: (next: VerifyStep) => void = () => undefined,
  ): Promise<{ path: string; cleanup: () => Promise<void> }> {
    const path = join(this.config.backup.dir, row.file);
    const info = await stat(path).catch((error: Error) => {
      throw new Error(`backup file missing: ${error.message}`);
    });
    if (row.size_bytes !== null && info.size !== Number(row.size_bytes)) {
      throw new Error(`backup file is ${info.size} bytes, expected ${row.size_bytes}`);
    }
    onStep('checksum');
    const { sha256 } = await sha256File(path);
    if (sha256 !== row.sha256)
      throw new Error(`sha256 mismatch: file ${sha256}, recorded ${row.sha256}`);
    onStep('decrypt');
    if (!row.encrypted) return { path, cleanup: async () => undefined };

    const raw = this.config.backup.encryptionKey;
    if (raw === undefined)
      throw new Error('backup is encrypted but BACKUP_ENCRYPTION_KEY is not set');
    const key = parseBackupKey(raw);
    const plain = join(
      this.config.backup.dir,
      `.${row.id}.${randomBytes(4).toString('hex')}.plain.tmp`,
    );
    const cleanup = () => removeQuietly(plain);
    try {
      await pipeline(
        createReadStream(path),
        decryptStream(key),
        createWriteStream(plain, { flags: 'wx', mode: 0o600 }),
      );
    } catch (error) {
      await cleanup();
      throw error;
    }
    return { path: plain, cleanup };
  }

  private async tool(tool: PgTool): Promise<string> {
    const path = resolvePgTool(tool, this.config.backup.pgBinDir);
    checkToolAgainstServer(tool, await toolVersion(path), await this.backups.serverVersion());
    return path;
  }

  private async pgRestore(pgRestore: string, archive: string, database: string): Promise<void> {
    // --no-owner/--no-acl: the restoring role owns what it creates, whatever role made the dump.
    const args = [
      '--exit-on-error',
      '--single-transaction',
      '--no-owner',
      '--no-acl',
      ...connArgs(this.target, database),
    ];
    await runTool(pgRestore, [...args, archive], pgEnv(this.target), 'restore_failed');
  }

  /**
   * Over the live database in ONE transaction: drop the public schema, recreate it and replay
   * the archive as SQL (pg_restore --file=- | psql --single-transaction). Any error rolls the
   * whole thing back, leaving the live data untouched. The backups ledger is carried over. (pg_restore --clean cannot drop the
   * inherited constraints of partitions, so it is not used.)
   */
  private async restoreOverLive(pgRestore: string, archive: string): Promise<void> {
    const psql = resolvePgTool('psql', this.config.backup.pgBinDir);
    const env = pgEnv(this.target);
    const producer = spawn(pgRestore, ['--no-owner', '--no-acl', '--file=-', archive], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const consumer = spawn(
      psql,
      [
        '--no-psqlrc',
        '--quiet',
        '--single-transaction',
        '--set',
        'ON_ERROR_STOP=1',
        ...connArgs(this.target, this.target.database),
        '--command',
        "SET lock_timeout = '30s'",
        // The backups ledger describes files on disk, which a restore does not change: keep it.
        '--command',
        'CREATE TEMP TABLE keep_backups AS SELECT to_jsonb(b) AS row FROM public.backups b',
        '--command',
        'DROP SCHEMA IF EXISTS public CASCADE',
        '--command',
        'CREATE SCHEMA public',
        '--file',
        '-',
        '--command',
        'DELETE FROM public.backups',
        '--command',
        'INSERT INTO public.backups SELECT (jsonb_populate_record(NULL::public.backups, row)).* FROM pg_temp.keep_backups',
      ],
      { env, stdio: ['pipe', 'ignore', 'pipe'] },
    );
    const producerErr = collectStderr(producer);
    const consumerErr = collectStderr(consumer);
    const exit = (child: ReturnType<typeof spawn>) =>
      new Promise<number | string>((resolve) => {
        child.once('error', (e) => resolve(e.message));
        child.once('close', (code, signal) => resolve(signal ?? code ?? -1));
      });
    const [producerExit, consumerExit] = await Promise.all([
      exit(producer),
      exit(consumer),
      pipeline(producer.stdout!, consumer.stdin!).catch(() => undefined),
    ]);
    if (consumerExit !== 0)
      throw new BackupError(
        'restore_failed',
        `psql exited with ${consumerExit}: ${consumerErr() || 'no output'}`,
      );
    if (producerExit !== 0)
      throw new BackupError(
        'restore_failed',
        `pg_restore exited with ${producerExit}: ${producerErr() || 'no output'}`,
      );
  }

  private async compareRowCounts(
    row: BackupRow,
    database: string,
  ): Promise<RestoreResult['rowCounts']> {
    const expected = ((row.manifest?.rowCounts as { tables?: RowCounts } | undefined)?.tables ??
      {}) as RowCounts;
    const client = new Client(pgClientConfig(this.target, database));
    // A session ended by the server fails the counts below (actual: null), not the process.
    client.on('error', (error) =>
      this.logger.warn(`row-count session on ${database} ended: ${error.message}`),
    );
    await client.connect();
    const mismatches: RestoreResult['rowCounts']['mismatches'] = [];
    try {
      await client.query('SET statement_timeout = 0');
      for (const [table, count] of Object.entries(expected)) {
        const actual = await this.backups.countRows(client, table).catch(() => null);
        if (actual !== count) mismatches.push({ table, expected: count, actual });
      }
    } finally {
      await client.end();
    }
    return { tablesCompared: Object.keys(expected).length, mismatches };
  }

  // ---- restore ---------------------------------------------------------------------------

  /**
   * Restores into a new database (default `<db>_restore_<id>`), or over the live database when
   * `targetDatabase` names it and `force` is true. Guards are checked before anything runs.
   */
  restore(
    id: string,
    options: RestoreOptions,
    actor: string,
    trigger: JobTrigger,
  ): Promise<RestoreResult> {
    const live = this.target.database;
    const targetDatabase = options.targetDatabase ?? scratchDatabaseName(live, 'restore', id);
    // Recorded when it ends (refusals and failures too): restoring over the live database
    // replaces admin_audit_log itself.
    return this.audit.around(
      actor,
      'backup.restore',
      id,
      {
        trigger,
        targetDatabase,
        overLiveDatabase: targetDatabase === live,
        force: options.force === true,
      },
      () => this.runRestore(id, options, targetDatabase, trigger),
      () => ({ status: 'succeeded', error: null }),
    );
  }

  private async runRestore(
    id: string,
    options: RestoreOptions,
    targetDatabase: string,
    trigger: JobTrigger,
  ): Promise<RestoreResult> {
    const row = await this.mustGet(id);
    const live = this.target.database;
    if (!DB_NAME_PATTERN.test(targetDatabase)) {
      throw badParameter(
        'targetDatabase',
        'targetDatabase must be 1-63 characters of letters, digits, _, $ or -, not starting with a digit',
      );
    }
    const overLive = targetDatabase === live;
    if (overLive && options.force !== true) {
      throw badParameter(
        'force',
        `restoring over the live database "${live}" requires "force": true`,
      );
    }
    this.assertRestorable(row);
    if (!overLive) {
      if (await this.backups.databaseExists(targetDatabase))
        throw new ConflictException(
          `database "${targetDatabase}" already exists; choose a new name`,
        );
    }

    let result: RestoreResult | undefined;
    const outcome = await this.jobs.run('backup-restore', trigger, async () => {
      const started = performance.now();
      const archive = await this.openArchive(row);
      let created = false;
      try {
        const pgRestore = await this.tool('pg_restore');
        if (!overLive) {
          await this.backups.createDatabase(targetDatabase);
          created = true;
        }
        if (overLive) {
          await this.restoreOverLive(pgRestore, archive.path);
          // Cached answers describe the data before the restore.
          await this.cache.invalidateAll();
        } else await this.pgRestore(pgRestore, archive.path, targetDatabase);
        result = {
          backupId: id,
          targetDatabase,
          overLiveDatabase: overLive,
          durationMs: Math.round(performance.now() - started),
          rowCounts: await this.compareRowCounts(row, targetDatabase),
        };
        return result;
      } catch (error) {
        this.metrics.errors.inc({ service: 'backup', type: 'restore_failed' });
        if (created) await this.backups.dropDatabase(targetDatabase).catch(() => undefined);
        throw error;
      } finally {
        await archive.cleanup();
      }
    });
    if (outcome.status === 'skipped_locked')
      throw new ConflictException('another restore is running; try again later');
    if (!result)
      throw new UnprocessableEntityException(
        `restore of ${id} failed: ${outcome.error ?? 'unknown error'}`,
      );
    return result;
  }

  // ---- rotation --------------------------------------------------------------------------

  /** GFS rotation: deletes the files of backups outside the policy and marks their rows. */
  async rotate(): Promise<{ kept: string[]; deleted: string[]; skipped?: string }> {
    const { keepDaily: daily, keepWeekly: weekly, keepMonthly: monthly } = this.config.backup;
    if (daily + weekly + monthly === 0)
      return { kept: [], deleted: [], skipped: 'all BACKUP_KEEP_* are 0: rotation off' };
    const rows = await this.backups.rotationCandidates();
    const plan = planRotation(
      rows.map((r) => ({ id: r.id, startedAt: r.started_at, verified: r.verified_at !== null })),
      { daily, weekly, monthly },
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const deleted: string[] = [];
    for (const id of plan.remove) {
      const file = join(this.config.backup.dir, byId.get(id)!.file);
      try {
        await removeQuietly(file);
        await removeQuietly(`${file}.manifest.json`);
        await this.backups.markDeleted(id);
        deleted.push(id);
      } catch (error) {
        this.metrics.errors.inc({ service: 'backup', type: 'rotation' });
        this.logger.error(`rotation could not delete backup ${id}: ${(error as Error).message}`);
      }
    }
    if (deleted.length)
      this.logger.log(`rotation deleted ${deleted.length} backup(s): ${deleted.join(', ')}`);
    return { kept: plan.keep, deleted };
  }
}
