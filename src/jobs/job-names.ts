import { AdvisoryLock } from '../database/advisory-lock';

/** Every job and the cluster-wide lock that makes each run happen once across replicas. */
export const JOB_LOCKS = {
  partitions: AdvisoryLock.Partitions,
  'index-maintenance': AdvisoryLock.IndexMaintenance,
  backup: AdvisoryLock.Backup,
  'backup-verify': AdvisoryLock.BackupVerify,
  'backup-restore': AdvisoryLock.BackupRestore,
  alerts: AdvisoryLock.Alerts,
  'cache-warm': AdvisoryLock.CacheWarm,
} as const;

export type JobName = keyof typeof JOB_LOCKS;
export const JOB_NAMES = Object.keys(JOB_LOCKS) as JobName[];

export type JobTrigger = 'cron' | 'api' | 'cli';
/** `interrupted`: cut short by the service's shutdown (a job's own failure is `failed`). */
export type JobStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'skipped_locked';
export const JOB_STATUSES: JobStatus[] = [
  'running',
  'succeeded',
  'failed',
  'interrupted',
  'skipped_locked',
];
