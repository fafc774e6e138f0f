import { ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AuditService } from '../audit/audit.service';
import { CacheService } from '../cache/cache.service';
import { OnAppEvent } from '../common/events';
import { badParameter } from '../common/field-errors';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { ConnectionTarget } from '../database/data-source';
import { CONNECTION_TARGET, DATABASE_READY } from '../database/database.service';
import { JobFailure, JobInterrupted, JobOutcome, JobsService } from '../jobs/jobs.service';
import { JobTrigger } from '../jobs/job-names';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { BackupArchives } from './backup-archive';
import { BackupDumper } from './backup-dumper';
import { removeQuietly } from './backup-files';
import { BackupOffsite } from './backup-offsite';
import { BackupRestorer, RowCountComparison } from './backup-restorer';
import { BackupRotation, RotationResult } from './backup-rotation';
import { BackupVerifier, VerificationResult } from './backup-verifier';
import { BackupRepository, BackupRow, BackupView, toBackupView } from './backup.repository';
import { PgProcessRunner, ShutdownInterrupt } from './pg-process';
import { BackupError, scratchDatabaseName } from './pg-tools';

export type { VerificationResult } from './backup-verifier';

export interface RestoreOptions {
  targetDatabase?: string;
  force?: boolean;
}

export interface RestoreResult extends Record<string, unknown> {
  backupId: string;
  status: 'succeeded' | 'failed' | 'interrupted';
  targetDatabase: string;
  overLiveDatabase: boolean;
  source?: 'local' | 'offsite';
  durationMs: number;
  error: string | null;
  rowCounts?: RowCountComparison;
}

const DB_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

/** Backup ids sort by time and are safe in file and database names: 20261121T020000Z-a1b2c3. */
export function newBackupId(now = new Date()): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/**
 * What the API, the cron and the CLI call: each backup, verify and restore is a job run
 * (advisory lock, job_runs row) in the background, its state recorded on the backup. The work
 * itself lives in the dumper, the verifier, the restorer, rotation and the off-site store.
 */
/** A verify or restore accepted to run in the background (202), and the copy it will read. */
export interface TaskAccepted {
  id: string;
  source: 'local' | 'offsite';
}

@Injectable()
export class BackupService {
  private readonly logger = new Logger(BackupService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CONNECTION_TARGET) private readonly target: ConnectionTarget,
    private readonly backups: BackupRepository,
    private readonly jobs: JobsService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly cache: CacheService,
    private readonly dumper: BackupDumper,
    private readonly verifier: BackupVerifier,
    private readonly restorer: BackupRestorer,
    private readonly rotation: BackupRotation,
    private readonly offsite: BackupOffsite,
    private readonly archives: BackupArchives,
    private readonly tools: PgProcessRunner,
  ) {}

  /**
   * Gauges from the ledger: last success, verification, size, off-site upload, restore time.
   * Gauges start at 0 in a new process; seeded once the database is ready so BackupTooOld
   * does not fire after every deploy.
   */
  @OnAppEvent(DATABASE_READY, { suppressErrors: false })
  async seedMetrics(): Promise<void> {
    try {
      const { success, verifiedAt } = await this.backups.latest();
      if (success?.finished_at) {
        this.metrics.backupLastSuccess.set(success.finished_at.getTime() / 1000);
        this.metrics.backupSize.set(Number(success.size_bytes));
      }
      if (verifiedAt) this.metrics.backupLastVerified.set(verifiedAt.getTime() / 1000);
      const restoreMs = await this.backups.latestRestoreDurationMs();
      if (restoreMs !== null) this.metrics.backupLastRestoreDuration.set(restoreMs / 1000);
      await this.offsite.seedMetrics();
    } catch (error) {
      this.logger.warn(`backup gauges not seeded: ${(error as Error).message}`);
    }
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

  /** The cron's run: backup, off-site copy, rotation and (BACKUP_VERIFY) verification. */
  async scheduled(): Promise<Record<string, unknown>> {
    const row = await this.insertRow('cron');
    return this.perform(row, { verify: this.config.backup.verify, rotate: true });
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

  /** The job body: dump, off-site copy, then (optionally) rotate and verify. */
  private async perform(
    row: BackupRow,
    options: { verify: boolean; rotate: boolean },
  ): Promise<Record<string, unknown>> {
    await this.cleanInterrupted(row.started_at);
    const started = performance.now();
    let done: BackupRow;
    try {
      done = await this.dumper.dump(row);
    } catch (error) {
      const interrupted = error instanceof ShutdownInterrupt;
      const type = error instanceof BackupError ? error.type : 'dump_failed';
      const message = (error as Error).message;
      if (!interrupted) this.metrics.errors.inc({ service: 'backup', type });
      await this.backups.fail(row.id, message);
      if (interrupted) throw new JobInterrupted(message, { backupId: row.id });
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
    // This backup's copy, and a retry of every earlier one whose upload failed.
    if (this.offsite.enabled)
      details.offsite = await this.offsite.uploadPending((r) => this.archives.localPath(r));
    if (options.rotate) details.rotation = await this.rotation.rotate();
    if (options.verify) {
      const fresh = (await this.backups.get(row.id)) ?? done;
      const verification = await this.verifyUnderLock(fresh, row.trigger as JobTrigger);
      details.verification = verification;
      if (verification.status === 'interrupted')
        throw new JobInterrupted(`verification of ${row.id} interrupted`, details);
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

  // ---- verify ----------------------------------------------------------------------------

  /** API: refusals at once (404/409); the verification runs in the background (202). */
  async startVerify(id: string, actor: string, trigger: JobTrigger): Promise<TaskAccepted> {
    const row = await this.acceptVerify(id, actor, trigger);
    const source = await this.archives.sourceFor(row);
    void this.runVerifyJob(row, actor, trigger).catch((error: Error) =>
      this.logger.error(`verification of ${id} could not run: ${error.message}`),
    );
    return { id, source };
  }

  /** CLI: the same, awaited. */
  async verifyAndWait(id: string, actor: string, trigger: JobTrigger): Promise<VerificationResult> {
    const row = await this.acceptVerify(id, actor, trigger);
    return this.runVerifyJob(row, actor, trigger);
  }

  private async acceptVerify(id: string, actor: string, trigger: JobTrigger): Promise<BackupRow> {
    return this.refusalsAudited(actor, 'backup.verify', id, { trigger }, async () => {
      const row = await this.mustGet(id);
      this.assertRestorable(row);
      if (!(await this.backups.claimVerification(id)))
        throw new ConflictException(`backup ${id} is being verified already`);
      return row;
    });
  }

  /** Recorded in the audit log when it ends, like the synchronous call was. */
  private runVerifyJob(
    row: BackupRow,
    actor: string,
    trigger: JobTrigger,
  ): Promise<VerificationResult> {
    return this.audit.around(
      actor,
      'backup.verify',
      row.id,
      { trigger },
      () => this.verifyUnderLock(row, trigger),
      (result) => ({ status: result.status, failedStep: result.failedStep, error: result.error }),
    );
  }

  private async verifyUnderLock(row: BackupRow, trigger: JobTrigger): Promise<VerificationResult> {
    let result: VerificationResult | undefined;
    const outcome = await this.jobs.run('backup-verify', trigger, async () => {
      result = await this.verifier.verify(row);
      if (result.status === 'interrupted')
        throw new JobInterrupted(`verification of ${row.id} interrupted by shutdown`, result);
      if (!result.ok)
        throw new JobFailure(
          `verification of ${row.id} failed at ${result.failedStep}: ${result.error}`,
          result,
        );
      return result;
    });
    if (result) return result;
    // Never ran (lock held elsewhere, or the ledger failed): record why on the backup.
    const skipped: VerificationResult = {
      backupId: row.id,
      status: 'failed',
      ok: false,
      checkedAt: new Date().toISOString(),
      failedStep: null,
      error:
        outcome.status === 'skipped_locked'
          ? 'skipped: another verification is running (advisory lock held); try again later'
          : (outcome.error ?? 'verification did not run'),
      steps: {},
    };
    if (outcome.status === 'skipped_locked') skipped.status = 'interrupted';
    await this.backups.recordVerification(row.id, skipped, false).catch(() => undefined);
    return skipped;
  }

  private assertRestorable(row: BackupRow): void {
    if (row.deleted_at) throw new ConflictException(`backup ${row.id} was deleted by rotation`);
    if (row.status !== 'succeeded')
      throw new ConflictException(
        `backup ${row.id} is ${row.status}; only succeeded backups can be used`,
      );
  }

  /** Refusals (4xx) are audited at once; an accepted request is audited when its job ends. */
  private async refusalsAudited<T>(
    actor: string,
    action: string,
    target: string,
    details: Record<string, unknown>,
    check: () => Promise<T>,
  ): Promise<T> {
    try {
      return await check();
    } catch (error) {
      await this.audit
        .record(actor, action, target, {
          ...details,
          status: 'failed',
          error: (error as Error).message,
        })
        .catch((e: Error) => this.logger.error(`could not audit refused ${action}: ${e.message}`));
      throw error;
    }
  }

  // ---- restore ---------------------------------------------------------------------------

  /**
   * Restores into a new database (default `<db>_restore_<id>`), or over the live database when
   * `targetDatabase` names it and `force` is true. Guards answer at once; the restore itself
   * runs in the background (202), its state under `restore` on the backup.
   */
  async startRestore(
    id: string,
    options: RestoreOptions,
    actor: string,
    trigger: JobTrigger,
  ): Promise<TaskAccepted & { targetDatabase: string }> {
    const accepted = await this.acceptRestore(id, options, actor, trigger);
    const source = await this.archives.sourceFor(accepted.row);
    void this.runRestoreJob(accepted, actor, trigger).catch((error: Error) =>
      this.logger.error(`restore of ${id} could not run: ${error.message}`),
    );
    return { id, targetDatabase: accepted.targetDatabase, source };
  }

  async restoreAndWait(
    id: string,
    options: RestoreOptions,
    actor: string,
    trigger: JobTrigger,
  ): Promise<RestoreResult> {
    const accepted = await this.acceptRestore(id, options, actor, trigger);
    return this.runRestoreJob(accepted, actor, trigger);
  }

  private acceptRestore(
    id: string,
    options: RestoreOptions,
    actor: string,
    trigger: JobTrigger,
  ): Promise<{ row: BackupRow; targetDatabase: string; overLive: boolean; force: boolean }> {
    const live = this.target.database;
    const targetDatabase = options.targetDatabase ?? scratchDatabaseName(live, 'restore', id);
    const overLive = targetDatabase === live;
    const details = {
      trigger,
      targetDatabase,
      overLiveDatabase: overLive,
      force: options.force === true,
    };
    return this.refusalsAudited(actor, 'backup.restore', id, details, async () => {
      const row = await this.mustGet(id);
      if (!DB_NAME_PATTERN.test(targetDatabase)) {
        throw badParameter(
          'targetDatabase',
          'targetDatabase must be 1-63 characters of letters, digits, _, $ or -, not starting with a digit',
        );
      }
      if (overLive && options.force !== true) {
        throw badParameter(
          'force',
          `restoring over the live database "${live}" requires "force": true`,
        );
      }
      this.assertRestorable(row);
      if (!overLive && (await this.backups.databaseExists(targetDatabase)))
        throw new ConflictException(
          `database "${targetDatabase}" already exists; choose a new name`,
        );
      if (!(await this.backups.claimRestore(id, { targetDatabase, overLiveDatabase: overLive })))
        throw new ConflictException(`backup ${id} is being restored already`);
      return { row, targetDatabase, overLive, force: options.force === true };
    });
  }

  private runRestoreJob(
    accepted: { row: BackupRow; targetDatabase: string; overLive: boolean; force: boolean },
    actor: string,
    trigger: JobTrigger,
  ): Promise<RestoreResult> {
    const { row, targetDatabase, overLive, force } = accepted;
    // Recorded when it ends: restoring over the live database replaces admin_audit_log itself.
    return this.audit.around(
      actor,
      'backup.restore',
      row.id,
      { trigger, targetDatabase, overLiveDatabase: overLive, force },
      () => this.restoreUnderLock(row, targetDatabase, overLive, trigger),
      (result) => ({ status: result.status, error: result.error }),
    );
  }

  private async restoreUnderLock(
    row: BackupRow,
    targetDatabase: string,
    overLive: boolean,
    trigger: JobTrigger,
  ): Promise<RestoreResult> {
    const started = performance.now();
    const result: RestoreResult = {
      backupId: row.id,
      status: 'failed',
      targetDatabase,
      overLiveDatabase: overLive,
      durationMs: 0,
      error: null,
    };
    const outcome = await this.jobs.run('backup-restore', trigger, async () => {
      let created = false;
      let archive: Awaited<ReturnType<BackupArchives['open']>> | undefined;
      try {
        archive = await this.archives.open(row);
        result.source = archive.source;
        const pgRestore = await this.tools.checked(
          'pg_restore',
          await this.backups.serverVersion(),
        );
        if (overLive) {
          await this.restorer.overLive(pgRestore, archive.path);
          // Cached answers describe the data before the restore.
          await this.cache.invalidateAll();
        } else {
          await this.backups.createDatabase(targetDatabase);
          created = true;
          await this.restorer.intoDatabase(pgRestore, archive.path, targetDatabase);
        }
        result.durationMs = Math.round(performance.now() - started);
        result.rowCounts = await this.restorer.compareRowCounts(row, targetDatabase);
        result.status = 'succeeded';
        return result;
      } catch (error) {
        const interrupted = error instanceof ShutdownInterrupt || this.tools.shuttingDown;
        result.status = interrupted ? 'interrupted' : 'failed';
        result.error = (error as Error).message;
        if (!interrupted) this.metrics.errors.inc({ service: 'backup', type: 'restore_failed' });
        if (created) await this.backups.dropDatabase(targetDatabase).catch(() => undefined);
        if (interrupted) throw new JobInterrupted(result.error, result);
        throw new JobFailure(result.error, result);
      } finally {
        await archive?.cleanup();
      }
    });
    if (outcome.status === 'skipped_locked') {
      result.status = 'failed';
      result.error = 'skipped: another restore is running (advisory lock held); try again later';
    } else if (outcome.status === 'failed' && result.error === null) {
      result.error = outcome.error ?? 'restore failed';
    }
    result.durationMs ||= Math.round(performance.now() - started);
    await this.backups
      .recordRestore(row.id, { ...result, finishedAt: new Date().toISOString() })
      .catch((e: Error) =>
        this.logger.error(`restore state of ${row.id} not recorded: ${e.message}`),
      );
    return result;
  }

  // ---- rotation --------------------------------------------------------------------------

  rotate(): Promise<RotationResult> {
    return this.rotation.rotate();
  }
}
