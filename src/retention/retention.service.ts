import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DAY } from '../common/time-window';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import {
  PARTITIONED_TABLES,
  PartitionInfo,
  PartitionRange,
  PartitionedTable,
  Queryable,
  createPartition,
  defaultPartitionPeriods,
  dropPartition,
  listPartitions,
  wantedPartitions,
} from '../database/partitions';
import { withSession } from '../database/session';
import { JobTrigger } from '../jobs/job-names';
import { JobFailure, JobsService } from '../jobs/jobs.service';
import { MetricsCollector } from '../monitoring/metrics/metrics-collector.service';
import { RetentionWindow } from '../trends/retention-window';
import { ArchivedPartition, archivePartition } from './partition-archive';
import { RetentionPolicyView, RetentionRepository, TRIMMED_TABLES } from './retention.repository';

const TRIM_BATCH = 1000;
/** Tables whose rows name a trend_key; the catalogue is kept while any of them may hold one. */
const CATALOG_REFERENCES = PARTITIONED_TABLES.map((t) => t.table);

interface RangeView {
  table: string;
  partition: string;
  from: string;
  to: string;
}

export type RetentionPlan = {
  create: RangeView[];
  relocate: (RangeView & { rows: number })[];
  drop: (RangeView & { estimatedRows: number; bytes: number })[];
  trim: { table: string; before: string; rows: number }[];
  catalog: { before: string; rows: number } | null;
  archive: boolean;
};

export type RetentionFailure = { step: string; table: string; partition?: string; reason: string };

export type RetentionResult = {
  created: string[];
  relocated: { table: string; partition: string; rows: number }[];
  relocatedRows: number;
  dropped: RangeView[];
  archived: ArchivedPartition[];
  trimmed: { table: string; rows: number }[];
  catalogTrimmed: number;
  failures: RetentionFailure[];
};

const rangeView = (table: string, p: { name: string; from: Date; to: Date }): RangeView => ({
  table,
  partition: p.name,
  from: p.from.toISOString(),
  to: p.to.toISOString(),
});

/** Postgres "lock_not_available": raised when lock_timeout expires. */
const LOCK_NOT_AVAILABLE = '55P03';
const DUPLICATE_TABLE = '42P07';

/**
 * The partition job (SPEC §7): premake partitions, move rows out of DEFAULT partitions, drop
 * (optionally archive) partitions past their policy, trim non-partitioned tables. One method
 * computes the plan (dry run) and one carries it out; both read the same catalogue state.
 */
@Injectable()
export class RetentionService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: RetentionRepository,
    private readonly jobs: JobsService,
    private readonly audit: AuditService,
    private readonly collector: MetricsCollector,
    private readonly retentionWindow: RetentionWindow,
  ) {}

  policies(): Promise<RetentionPolicyView[]> {
    return this.repository.policies();
  }

  async updatePolicy(
    actor: string,
    table: string,
    keepDays: number,
    enabled?: boolean,
  ): Promise<RetentionPolicyView> {
    const change = await this.dataSource.transaction(async (manager) => {
      const updated = await this.repository.updatePolicy(manager, table, keepDays, enabled, actor);
      if (!updated) return undefined;
      await this.audit.record(
        actor,
        'retention.policy.update',
        table,
        {
          before: { keepDays: updated.before.keepDays, enabled: updated.before.enabled },
          after: { keepDays: updated.after.keepDays, enabled: updated.after.enabled },
        },
        manager,
      );
      return updated;
    });
    if (!change) throw new NotFoundException(`no retention policy for table ${table}`);
    // Ingest's oldest-allowed observedAt follows the raw policy at once, not within a minute.
    if (table === 'trend_observations') await this.retentionWindow.refresh();
    return change.after;
  }

  /** Every partition, DEFAULT ones included with their exact row count (`rows`). */
  async partitions(): Promise<(PartitionInfo & { rows: number | null })[]> {
    const all = await listPartitions(this.dataSource);
    const counts = await this.repository.countRows(
      all.filter((p) => p.isDefault).map((p) => p.partition),
    );
    return all.map((p) => ({ ...p, rows: counts.get(p.partition) ?? null }));
  }

  /** API/CLI entry: a dry run returns the plan without a lock or a job_runs row. */
  async run(trigger: JobTrigger, dryRun: boolean) {
    if (dryRun) return { dryRun: true, plan: await this.plan(new Date()) };
    const outcome = await this.jobs.run('partitions', trigger, () => this.execute());
    return { dryRun: false, ...outcome };
  }

  /** What a run would do now. Reads only. */
  async plan(now: Date): Promise<RetentionPlan> {
    const existing = await listPartitions(this.dataSource);
    const names = new Set(existing.map((p) => p.partition));
    const policies = await this.policyMap();
    const plan: RetentionPlan = {
      create: [],
      relocate: [],
      drop: [],
      trim: [],
      catalog: null,
      archive: this.config.retention.archive,
    };

    for (const spec of PARTITIONED_TABLES) {
      const relocations = await defaultPartitionPeriods(this.dataSource, spec);
      for (const { range, rows } of relocations) {
        plan.relocate.push({ ...rangeView(spec.table, range), rows });
        names.add(range.name);
      }
      for (const range of wantedPartitions(spec, now, this.config.retention.partitionPremake)) {
        if (!names.has(range.name)) plan.create.push(rangeView(spec.table, range));
      }
      const cutoff = this.cutoff(policies, spec.table, now);
      if (!cutoff) continue;
      const relocated = relocations.map((r) => ({ ...r.range, estimatedRows: r.rows, bytes: 0 }));
      const attached = existing
        .filter((p) => p.table === spec.table && !p.isDefault && p.from && p.to)
        .map((p) => ({
          name: p.partition,
          from: p.from!,
          to: p.to!,
          estimatedRows: p.estimatedRows,
          bytes: p.bytes,
        }));
      for (const p of [...attached, ...relocated].filter(
        (p) => p.to.getTime() <= cutoff.getTime(),
      )) {
        plan.drop.push({
          ...rangeView(spec.table, p),
          estimatedRows: p.estimatedRows,
          bytes: p.bytes,
        });
      }
    }
    plan.drop.sort((a, b) => a.table.localeCompare(b.table) || a.from.localeCompare(b.from));

    for (const table of Object.keys(TRIMMED_TABLES)) {
      const cutoff = this.cutoff(policies, table, now);
      if (cutoff)
        plan.trim.push({
          table,
          before: cutoff.toISOString(),
          rows: await this.repository.countOlder(table, cutoff),
        });
    }
    const catalogCutoff = this.catalogCutoff(policies, now);
    if (catalogCutoff) {
      plan.catalog = {
        before: catalogCutoff.toISOString(),
        rows: await this.repository.countCatalogOlder(catalogCutoff),
      };
    }
    return plan;
  }

  /** One real run; throws JobFailure (with what was done) when any step failed. */
  async execute(now = new Date()): Promise<RetentionResult> {
    const result: RetentionResult = {
      created: [],
      relocated: [],
      relocatedRows: 0,
      dropped: [],
      archived: [],
      trimmed: [],
      catalogTrimmed: 0,
      failures: [],
    };
    const policies = await this.policyMap();

    for (const spec of PARTITIONED_TABLES) {
      await this.premake(spec, now, result);
      await this.relocate(spec, result);
      const cutoff = this.cutoff(policies, spec.table, now);
      if (cutoff) await this.dropOlder(spec, cutoff, now, result);
    }
    for (const table of Object.keys(TRIMMED_TABLES)) {
      const cutoff = this.cutoff(policies, table, now);
      if (cutoff)
        result.trimmed.push({
          table,
          rows: await this.repository.trimOlder(table, cutoff, TRIM_BATCH),
        });
    }
    const catalogCutoff = this.catalogCutoff(policies, now);
    if (catalogCutoff)
      result.catalogTrimmed = await this.repository.trimCatalogOlder(catalogCutoff, TRIM_BATCH);

    // Partition gauges show this run's changes at the next scrape, not up to 15 s later.
    await this.collector.refreshPartitionStats();
    if (result.failures.length > 0) {
      throw new JobFailure(
        result.failures.map((f) => `${f.step} ${f.partition ?? f.table}: ${f.reason}`).join('; '),
        result,
      );
    }
    return result;
  }

  private async premake(spec: PartitionedTable, now: Date, result: RetentionResult): Promise<void> {
    for (const range of wantedPartitions(spec, now, this.config.retention.partitionPremake)) {
      await this.makePartition(spec, range, 'create', result);
    }
  }

  /**
   * Moves rows out of the DEFAULT partition one target period per transaction (pg_partman's
   * partition_data batches): the rows go into a new standalone table that is then attached.
   */
  private async relocate(spec: PartitionedTable, result: RetentionResult): Promise<void> {
    for (const { range } of await defaultPartitionPeriods(this.dataSource, spec)) {
      await this.makePartition(spec, range, 'relocate', result);
    }
  }

  private async makePartition(
    spec: PartitionedTable,
    range: PartitionRange,
    step: 'create' | 'relocate',
    result: RetentionResult,
  ): Promise<void> {
    try {
      const moved = await this.inDdlTransaction((db) => createPartition(db, spec, range));
      if (moved < 0) return;
      result.created.push(range.name);
      if (moved > 0) {
        result.relocated.push({ table: spec.table, partition: range.name, rows: moved });
        result.relocatedRows += moved;
      }
    } catch (error) {
      // Another replica's start-up created it meanwhile: our transaction rolled back, fine.
      if (this.code(error) === DUPLICATE_TABLE) return;
      result.failures.push({
        step,
        table: spec.table,
        partition: range.name,
        reason: this.reason(error, spec.table),
      });
    }
  }

  /** Drops partitions whose whole range is older than the cutoff, oldest first. */
  private async dropOlder(
    spec: PartitionedTable,
    cutoff: Date,
    now: Date,
    result: RetentionResult,
  ): Promise<void> {
    const expired = (await listPartitions(this.dataSource, [spec.table])).filter(
      (p) => !p.isDefault && p.to !== null && p.to.getTime() <= cutoff.getTime(),
    );
    for (const p of expired) {
      try {
        if (this.config.retention.archive) {
          const dir = join(this.config.backup.dir, 'archive');
          result.archived.push(
            await archivePartition(this.dataSource, dir, spec.table, p.partition, now),
          );
        }
        await this.inDdlTransaction((db) => dropPartition(db, spec.table, p.partition));
        result.dropped.push({
          table: spec.table,
          partition: p.partition,
          from: p.from!.toISOString(),
          to: p.to!.toISOString(),
        });
      } catch (error) {
        result.failures.push({
          step: 'drop',
          table: spec.table,
          partition: p.partition,
          reason: this.reason(error, spec.table),
        });
        // The next partition would wait for the same lock: leave the rest to the next run.
        return;
      }
    }
  }

  /** DDL in its own short transaction, under lock_timeout so a busy table fails fast. */
  private inDdlTransaction<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    const options = {
      transaction: true,
      lockTimeoutMs: this.config.retention.lockTimeoutMs,
      statementTimeoutMs: 0,
    };
    return withSession(this.dataSource, options, fn);
  }

  private code(error: unknown): string | undefined {
    const e = error as { code?: string; driverError?: { code?: string } };
    return e.code ?? e.driverError?.code;
  }

  private reason(error: unknown, table: string): string {
    const code = this.code(error);
    if (code === LOCK_NOT_AVAILABLE) {
      return (
        `could not lock ${table} (or its DEFAULT partition) within lock_timeout ` +
        `${this.config.retention.lockTimeoutMs} ms: another transaction holds it; retried on the next run`
      );
    }
    return (error as Error).message;
  }

  private async policyMap(): Promise<Map<string, RetentionPolicyView>> {
    return new Map((await this.repository.policies()).map((p) => [p.table, p]));
  }

  private cutoff(
    policies: Map<string, RetentionPolicyView>,
    table: string,
    now: Date,
  ): Date | null {
    const policy = policies.get(table);
    return policy?.enabled ? new Date(now.getTime() - policy.keepDays * DAY) : null;
  }

  /**
   * Catalogue rows are kept while any table with trend keys may still hold the key: trimmed
   * only past the longest of their policies, and never while one of them keeps data forever.
   */
  private catalogCutoff(policies: Map<string, RetentionPolicyView>, now: Date): Date | null {
    let oldest: Date | null = now;
    for (const table of CATALOG_REFERENCES) {
      const cutoff = this.cutoff(policies, table, now);
      oldest = cutoff && oldest ? (cutoff < oldest ? cutoff : oldest) : null;
    }
    return oldest;
  }
}
