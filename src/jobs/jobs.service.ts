import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withAdvisoryLock } from '../database/advisory-lock';
import { runWithQuerySource } from '../database/query-source';
import { MetricsService } from '../monitoring/metrics/metrics.service';
import { JOB_LOCKS, JobName, JobStatus, JobTrigger } from './job-names';
import { JobsRepository } from './jobs.repository';

export type JobDetails = Record<string, unknown>;

/** Thrown by job work to fail a run while still recording what was done before the failure. */
export class JobFailure extends Error {
  constructor(
    message: string,
    readonly details: JobDetails,
  ) {
    super(message);
  }
}

/** Thrown by job work that was cut short by shutdown: the run is recorded `interrupted`. */
export class JobInterrupted extends JobFailure {}

export interface JobOutcome<T extends JobDetails> {
  runId: string;
  status: Exclude<JobStatus, 'running'>;
  result?: T;
  error?: string;
  /** What a failed run had done before it failed (JobFailure details), as recorded in job_runs. */
  details?: JobDetails;
}

const SHUTDOWN_WAIT_MS = 20_000;
const CRON_TICK_TOLERANCE_MS = 10_000;

/**
 * The one way to run a job, whether from a cron tick, an admin endpoint or a CLI: take the
 * job's advisory try-lock (a run already going anywhere in the cluster → `skipped_locked`),
 * record a job_runs row, do the work, record the outcome, count it in the metrics, and
 * release the lock in `finally`.
 */
@Injectable()
export class JobsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly runs: JobsRepository,
    private readonly metrics: MetricsService,
  ) {}

  run<T extends JobDetails>(
    job: JobName,
    trigger: JobTrigger,
    work: (runId: string) => Promise<T>,
  ): Promise<JobOutcome<T>> {
    // Statements of the run are attributed to the job in the slow-query log.
    const promise = runWithQuerySource(`job:${job}`, () => this.execute(job, trigger, work));
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  private async execute<T extends JobDetails>(
    job: JobName,
    trigger: JobTrigger,
    work: (runId: string) => Promise<T>,
  ): Promise<JobOutcome<T>> {
    const started = performance.now();
    let runId = '';
    const locked = await withAdvisoryLock(
      this.dataSource,
      JOB_LOCKS[job],
      async (): Promise<JobOutcome<T> | undefined> => {
        // Holding the lock proves no other run of this job is alive: a row still `running`
        // belongs to a process that stopped mid-run.
        await this.runs.failInterrupted(job);
        // Replica clocks differ by a little: the same cron tick may fire here just after
        // another replica finished it. One run per tick.
        if (trigger === 'cron' && (await this.runs.recentCronRun(job, CRON_TICK_TOLERANCE_MS))) {
          return undefined;
        }
        runId = await this.runs.start(job, trigger);
        try {
          const result = await work(runId);
          await this.runs.finish(runId, 'succeeded', result, null);
          this.metrics.jobLastSuccess.set({ job }, Date.now() / 1000);
          return { runId, status: 'succeeded', result };
        } catch (error) {
          const message = (error as Error).message;
          const details = error instanceof JobFailure ? error.details : null;
          const status = error instanceof JobInterrupted ? 'interrupted' : 'failed';
          await this.runs.finish(runId, status, details, message).catch((e: Error) => {
            this.logger.error(`could not record failure of ${job} run ${runId}: ${e.message}`);
          });
          if (status === 'failed') this.metrics.errors.inc({ service: 'jobs', type: job });
          return { runId, status, error: message, ...(details ? { details } : {}) };
        }
      },
      { wait: false },
    );
    const outcome: JobOutcome<T> =
      locked.acquired && locked.result
        ? locked.result
        : {
            runId: await this.runs.start(job, trigger, 'skipped_locked'),
            status: 'skipped_locked',
          };

    const seconds = (performance.now() - started) / 1000;
    this.metrics.jobRuns.inc({ job, status: outcome.status });
    if (outcome.status !== 'skipped_locked') this.metrics.jobDuration.observe({ job }, seconds);
    const line = `job ${job} (${trigger}) run ${outcome.runId}: ${outcome.status} in ${seconds.toFixed(3)} s`;
    if (outcome.status === 'failed') this.logger.error(`${line}: ${outcome.error}`);
    else if (outcome.status === 'interrupted') this.logger.warn(`${line}: ${outcome.error}`);
    else this.logger.log(line);
    return outcome;
  }

  /**
   * Lets running jobs finish (bounded) while the pools are still open: Nest calls every
   * beforeApplicationShutdown hook before any onApplicationShutdown (where the pools close).
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.inFlight.size === 0) return;
    this.logger.log(`waiting for ${this.inFlight.size} running job(s)`);
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref()),
    ]);
  }
}
