import { Inject, Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { removeQuietly } from './backup-files';
import { BackupOffsite } from './backup-offsite';
import { BackupRepository } from './backup.repository';
import { planRotation } from './rotation';

export interface RotationResult extends Record<string, unknown> {
  kept: string[];
  deleted: string[];
  skipped?: string;
}

/** GFS rotation (policy in rotation.ts): deletes the files, local and off-site, and marks rows. */
@Injectable()
export class BackupRotation {
  private readonly logger = new Logger(BackupRotation.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly backups: BackupRepository,
    private readonly offsite: BackupOffsite,
    private readonly metrics: MetricsService,
  ) {}

  async rotate(): Promise<RotationResult> {
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
      const row = byId.get(id)!;
      const file = join(this.config.backup.dir, row.file);
      try {
        // Remote first: when it fails the backup stays whole and the next rotation retries.
        if (this.offsite.enabled) await this.offsite.remove(row);
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
