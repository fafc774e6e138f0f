import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { Queryable } from '../database/partitions';
import { withSession } from '../database/session';
import { JobTrigger } from '../jobs/job-names';
import { JobFailure, JobsService } from '../jobs/jobs.service';
import { estimateBloat } from './bloat';
import { IndexRecord, MaintenanceRepository } from './maintenance.repository';

export const MAINTENANCE_TASKS = ['analyze', 'reindex', 'all'] as const;
export type MaintenanceTask = (typeof MAINTENANCE_TASKS)[number];

export type IndexView = {
  table: string;
  index: string;
  method: string;
  sizeBytes: number;
  scans: number;
  bloatEstimate: number | null;
  valid: boolean;
  unique: boolean;
  primary: boolean;
  unused: boolean;
};

export type MaintenanceResult = {
  task: MaintenanceTask;
  analyzed: { table: string; modified: number }[];
  reindexed: { table: string; index: string; reason: string }[];
  droppedLeftovers: string[];
  unused: { table: string; index: string; sizeBytes: number }[];
  statsSince: string | null;
  failures: { step: string; target: string; reason: string }[];
};

/**
 * Index and statistics maintenance (SPEC §7): ANALYZE what was written since it was last
 * analyzed, REINDEX INDEX CONCURRENTLY invalid or bloated indexes one at a time under
 * lock_timeout, and report unused indexes without dropping them.
 */
@Injectable()
export class MaintenanceService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: MaintenanceRepository,
    private readonly jobs: JobsService,
  ) {}

  async indexes(): Promise<IndexView[]> {
    const blockSize = await this.repository.blockSize();
    return (await this.repository.indexes()).map((r) => this.view(r, blockSize));
  }

  /** Top statements by total time (pg_stat_statements), or why that report is unavailable. */
  statements(limit: number) {
    return this.repository.topStatements(limit);
  }

  run(trigger: JobTrigger, task: MaintenanceTask) {
    return this.jobs.run('index-maintenance', trigger, () => this.execute(task));
  }

  async execute(task: MaintenanceTask): Promise<MaintenanceResult> {
    const result: MaintenanceResult = {
      task,
      analyzed: [],
      reindexed: [],
      droppedLeftovers: [],
      unused: [],
      statsSince: (await this.repository.statsSince())?.toISOString() ?? null,
      failures: [],
    };
    if (task === 'analyze' || task === 'all') await this.analyze(result);
    if (task === 'reindex' || task === 'all') await this.reindex(result);
    result.unused = (await this.indexes())
      .filter((i) => i.unused)
      .map((i) => ({ table: i.table, index: i.index, sizeBytes: i.sizeBytes }));
    if (result.failures.length > 0) {
      throw new JobFailure(
        result.failures.map((f) => `${f.step} ${f.target}: ${f.reason}`).join('; '),
        result,
      );
    }
    return result;
  }

  private async analyze(result: MaintenanceResult): Promise<void> {
    for (const { table, modified } of await this.repository.tablesToAnalyze()) {
      try {
        await this.onSession((db) => this.repository.analyze(db, table));
        result.analyzed.push({ table, modified });
      } catch (error) {
        result.failures.push({ step: 'analyze', target: table, reason: (error as Error).message });
      }
    }
  }

  private async reindex(result: MaintenanceResult): Promise<void> {
    const blockSize = await this.repository.blockSize();
    const threshold = this.config.maintenance.bloatThresholdPercent / 100;
    const candidates = (await this.repository.indexes())
      // Copies left by an earlier failed REINDEX CONCURRENTLY are dropped, not rebuilt.
      .filter((r) => !/_ccnew\d*$/.test(r.index))
      .map((r) => ({ record: r, view: this.view(r, blockSize) }))
      .flatMap(({ record, view }) => {
        if (!view.valid) return [{ record, reason: 'invalid' }];
        if (
          view.bloatEstimate !== null &&
          view.bloatEstimate > threshold &&
          view.sizeBytes >= this.config.maintenance.bloatMinBytes
        ) {
          return [{ record, reason: `bloat estimate ${(view.bloatEstimate * 100).toFixed(0)}%` }];
        }
        return [];
      });

    for (const { record, reason } of candidates) {
      try {
        // Not inside a transaction: REINDEX CONCURRENTLY refuses to run in one.
        await this.onSession((db) => this.repository.reindexConcurrently(db, record.index));
        result.reindexed.push({ table: record.table, index: record.index, reason });
      } catch (error) {
        result.failures.push({
          step: 'reindex',
          target: record.index,
          reason: (error as Error).message,
        });
      }
      // A failed concurrent rebuild leaves an invalid `_ccnew` copy that slows every write.
      for (const leftover of await this.repository.leftoverCopies(record.table)) {
        try {
          await this.onSession((db) => this.repository.dropIndexConcurrently(db, leftover));
          result.droppedLeftovers.push(leftover);
        } catch (error) {
          result.failures.push({
            step: 'drop-leftover',
            target: leftover,
            reason: (error as Error).message,
          });
        }
      }
    }
  }

  /** One statement on a dedicated session with lock_timeout set and no statement_timeout. */
  private onSession<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    const options = { lockTimeoutMs: this.config.maintenance.lockTimeoutMs, statementTimeoutMs: 0 };
    return withSession(this.dataSource, options, fn);
  }

  private view(r: IndexRecord, blockSize: number): IndexView {
    return {
      table: r.table,
      index: r.index,
      method: r.method,
      sizeBytes: r.bytes,
      scans: r.scans,
      bloatEstimate: r.valid ? estimateBloat(r, blockSize) : null,
      valid: r.valid,
      unique: r.unique,
      primary: r.primary,
      unused: r.valid && r.scans === 0 && !r.unique && !r.primary,
    };
  }
}
