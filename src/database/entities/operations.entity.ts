import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

@Entity('retention_policies')
export class RetentionPolicy {
  @PrimaryColumn({
    name: 'table_name',
    type: 'text',
    primaryKeyConstraintName: 'pk_retention_policies',
  })
  tableName: string;

  @Column({ name: 'keep_days', type: 'integer' })
  keepDays: number;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  @Column({ name: 'updated_by', type: 'text', nullable: true })
  updatedBy: string | null;
}

/** Every scheduled or manual job run. */
@Entity('job_runs')
@Index('idx_job_runs_job_started', ['job', 'startedAt'])
@Index('idx_job_runs_started', ['startedAt'])
export class JobRun {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'pk_job_runs',
  })
  id: string;

  @Column({ type: 'text' })
  job: string;

  @Column({ type: 'text' })
  trigger: string;

  @Column({ type: 'text' })
  status: string;

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  details: Record<string, unknown> | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}

@Entity('backups')
@Index('idx_backups_started', ['startedAt'])
export class Backup {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_backups' })
  id: string;

  @Column({ type: 'text' })
  file: string;

  @Column({ name: 'size_bytes', type: 'bigint', nullable: true })
  sizeBytes: string | null;

  @Column({ type: 'text', nullable: true })
  sha256: string | null;

  @Column({ type: 'text' })
  status: string;

  @Column({ type: 'boolean', default: false })
  encrypted: boolean;

  @Column({ type: 'text', default: 'api' })
  trigger: string;

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true })
  verifiedAt: Date | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ type: 'jsonb', nullable: true })
  manifest: Record<string, unknown> | null;

  /** Outcome of the last verification (migration AddBackupVerification). */
  @Column({ type: 'jsonb', nullable: true })
  verification: Record<string, unknown> | null;

  /** Off-site copy: key, status, uploadedAt, error (migration AddBackupOffsiteAndTasks). */
  @Column({ type: 'jsonb', nullable: true })
  offsite: Record<string, unknown> | null;

  /** State of the last background restore (migration AddBackupOffsiteAndTasks). */
  @Column({ type: 'jsonb', nullable: true })
  restore: Record<string, unknown> | null;
}

@Entity('admin_audit_log')
@Index('idx_admin_audit_log_at', ['at'])
export class AdminAuditLog {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'pk_admin_audit_log',
  })
  id: string;

  @Column({ type: 'text' })
  actor: string;

  @Column({ type: 'text' })
  action: string;

  @Column({ type: 'text', nullable: true })
  target: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  @Column({ type: 'jsonb', nullable: true })
  details: Record<string, unknown> | null;
}
