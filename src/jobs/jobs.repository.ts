import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CursorPosition, Page, cursorTimeSql, keysetAfter, toPage } from '../common/cursor';
import { SqlParams } from '../trends/rollup-source';
import { JobName, JobStatus, JobTrigger } from './job-names';

export interface JobRunView {
  id: string;
  job: string;
  trigger: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  details: Record<string, unknown> | null;
  error: string | null;
}

interface JobRunRecord {
  id: string;
  job: string;
  trigger: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  details: Record<string, unknown> | null;
  error: string | null;
}

const toView = (r: JobRunRecord): JobRunView => ({
  id: r.id,
  job: r.job,
  trigger: r.trigger,
  status: r.status,
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
  durationMs: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
  details: r.details,
  error: r.error,
});

/** The job_runs ledger. */
@Injectable()
export class JobsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async start(job: JobName, trigger: JobTrigger, status: JobStatus = 'running'): Promise<string> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO job_runs (job, trigger, status, finished_at)
       VALUES ($1, $2, $3, CASE WHEN $3 = 'running' THEN NULL ELSE now() END) RETURNING id`,
      [job, trigger, status],
    )) as { id: string }[];
    return row.id;
  }

  /** Marks runs of `job` left `running` by a process that stopped as failed. Call under the job's lock. */
  async failInterrupted(job: JobName): Promise<void> {
    await this.dataSource.query(
      `UPDATE job_runs SET status = 'failed', finished_at = clock_timestamp(),
         error = 'interrupted: the process running this job stopped before it finished'
       WHERE job = $1 AND status = 'running'`,
      [job],
    );
  }

  /** True when a scheduled run of `job` started within the last `withinMs`. */
  async recentCronRun(job: JobName, withinMs: number): Promise<boolean> {
    const [row] = (await this.dataSource.query(
      `SELECT EXISTS (
         SELECT 1 FROM job_runs
         WHERE job = $1 AND trigger = 'cron' AND status <> 'skipped_locked'
           AND started_at > clock_timestamp() - make_interval(secs => $2::float8 / 1000)
       ) AS recent`,
      [job, withinMs],
    )) as { recent: boolean }[];
    return row.recent;
  }

  async finish(
    id: string,
    status: Exclude<JobStatus, 'running'>,
    details: Record<string, unknown> | null,
    error: string | null,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE job_runs SET status = $2, finished_at = clock_timestamp(), details = $3, error = $4
       WHERE id = $1`,
      [id, status, details === null ? null : JSON.stringify(details), error],
    );
  }

  /** Runs newest first on (started_at, id): one page of `limit` rows after the cursor. */
  async list(
    filter: { job?: string; status?: string },
    after: CursorPosition | undefined,
    limit: number,
  ): Promise<Page<JobRunView>> {
    const params = new SqlParams();
    const add = (v: unknown) => params.add(v);
    const where = [keysetAfter(after, 'started_at', 'id', 'bigint', add)];
    if (filter.job !== undefined) where.push(`job = ${add(filter.job)}`);
    if (filter.status !== undefined) where.push(`status = ${add(filter.status)}`);
    const rows = (await this.dataSource.query(
      `SELECT id, job, trigger, status, started_at, finished_at, details, error,
         ${cursorTimeSql('started_at')} AS at_cursor
       FROM job_runs WHERE ${where.join(' AND ')}
       ORDER BY started_at DESC, id DESC LIMIT ${add(limit + 1)}`,
      params.values,
    )) as (JobRunRecord & { at_cursor: string })[];
    return toPage(rows, limit, (r) => ({ at: r.at_cursor, id: r.id }), toView);
  }

  async get(id: string): Promise<JobRunView | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT id, job, trigger, status, started_at, finished_at, details, error FROM job_runs WHERE id = $1`,
      [id],
    )) as JobRunRecord[];
    return rows[0] && toView(rows[0]);
  }
}
