import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConnectionTarget } from '../database/data-source';
import { CONNECTION_TARGET } from '../database/database.service';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { BackupArchives, OpenedArchive } from './backup-archive';
import { BackupRestorer } from './backup-restorer';
import { BackupRepository, BackupRow } from './backup.repository';
import { PgProcessRunner, ShutdownInterrupt } from './pg-process';
import { scratchDatabaseName } from './pg-tools';

export type VerifyStep = 'file' | 'checksum' | 'decrypt' | 'list' | 'restore' | 'row_counts';

export interface VerificationResult extends Record<string, unknown> {
  backupId: string;
  /** succeeded / failed, or interrupted when the service stopped mid-way (says nothing about the backup). */
  status: 'succeeded' | 'failed' | 'interrupted';
  ok: boolean;
  checkedAt: string;
  failedStep: VerifyStep | null;
  error: string | null;
  steps: Partial<Record<VerifyStep, 'ok' | 'failed' | 'skipped' | 'interrupted'>>;
  source?: OpenedArchive['source'];
  archiveEntries?: number;
  scratchDatabase?: string;
  /** Wall time of the scratch restore: the measured RTO of this backup. */
  restoreDurationMs?: number;
  tablesCompared?: number;
  mismatches?: { table: string; expected: number; actual: number | null }[];
}

/**
 * Verification: file and checksum (local or off-site copy), decrypt, pg_restore --list, a real
 * restore into a scratch database (timed: the measured RTO), row counts against the manifest.
 */
@Injectable()
export class BackupVerifier {
  private readonly logger = new Logger(BackupVerifier.name);

  constructor(
    @Inject(CONNECTION_TARGET) private readonly target: ConnectionTarget,
    private readonly backups: BackupRepository,
    private readonly archives: BackupArchives,
    private readonly restorer: BackupRestorer,
    private readonly tools: PgProcessRunner,
    private readonly metrics: MetricsService,
  ) {}

  async verify(row: BackupRow): Promise<VerificationResult> {
    const result: VerificationResult = {
      backupId: row.id,
      status: 'failed',
      ok: false,
      checkedAt: new Date().toISOString(),
      failedStep: null,
      error: null,
      steps: {},
    };
    let step: VerifyStep = 'file';
    const scratch = scratchDatabaseName(this.target.database, 'verify', row.id);
    let archive: OpenedArchive | undefined;
    let scratchCreated = false;
    try {
      archive = await this.archives.open(row, (s) => {
        result.steps[step] = 'ok';
        step = s;
      });
      result.source = archive.source;
      result.steps.decrypt = row.encrypted ? 'ok' : 'skipped';
      step = 'list';
      const pgRestore = await this.tools.checked('pg_restore', await this.backups.serverVersion());
      result.archiveEntries = await this.restorer.listEntries(pgRestore, archive.path);
      result.steps.list = 'ok';

      step = 'restore';
      result.scratchDatabase = scratch;
      await this.backups.dropDatabase(scratch);
      const started = performance.now();
      await this.backups.createDatabase(scratch);
      scratchCreated = true;
      await this.restorer.intoDatabase(pgRestore, archive.path, scratch);
      result.restoreDurationMs = Math.round(performance.now() - started);
      result.steps.restore = 'ok';

      step = 'row_counts';
      const compared = await this.restorer.compareRowCounts(row, scratch);
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
      result.status = 'succeeded';
    } catch (error) {
      result.error = (error as Error).message;
      if (error instanceof ShutdownInterrupt || this.tools.shuttingDown) {
        // The service stopped, not the backup: nothing is said about the backup's health.
        result.status = 'interrupted';
        result.steps[step] = 'interrupted';
        if (!(error instanceof ShutdownInterrupt))
          result.error = `interrupted by shutdown (${result.error})`;
      } else {
        result.steps[step] = 'failed';
        result.failedStep = step;
        this.metrics.errors.inc({ service: 'backup', type: `verify_${step}` });
      }
    } finally {
      if (scratchCreated)
        await this.backups
          .dropDatabase(scratch)
          .catch((e: Error) => this.logger.error(`could not drop ${scratch}: ${e.message}`));
      await archive?.cleanup();
    }
    await this.backups.recordVerification(row.id, result, result.ok);
    if (result.ok) {
      this.metrics.backupLastVerified.set(Date.now() / 1000);
      this.metrics.backupLastRestoreDuration.set((result.restoreDurationMs ?? 0) / 1000);
    }
    return result;
  }
}
