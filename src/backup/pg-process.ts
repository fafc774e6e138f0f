import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { ChildProcess, SpawnOptions, spawn } from 'node:child_process';
import { OnAppEvent } from '../common/events';
import { LIFECYCLE_STOPPING } from '../common/lifecycle.service';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { ConnectionTarget } from '../database/data-source';
import {
  BackupError,
  PgTool,
  checkToolAgainstServer,
  collectStderr,
  parseToolVersion,
  resolvePgTool,
} from './pg-tools';

/** Thrown when a child was stopped because the service is shutting down (not a tool failure). */
export class ShutdownInterrupt extends Error {
  constructor(what: string) {
    super(`interrupted: ${what} was stopped because the service is shutting down`);
  }
}

/**
 * The only variables a PostgreSQL client tool gets: PATH and locale for the tool itself, and
 * libpq settings for the target. Nothing else from the service's environment (JWT_SECRET,
 * BACKUP_ENCRYPTION_KEY, S3 credentials…) reaches a child process.
 */
export function minimalPgEnv(
  target: ConnectionTarget | undefined,
  parent: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: parent.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
  if (!target) return env;
  return {
    ...env,
    ...(target.password !== undefined ? { PGPASSWORD: target.password } : {}),
    PGSSLMODE: target.ssl === 'disable' ? 'prefer' : target.ssl,
    ...(target.caFile ? { PGSSLROOTCERT: target.caFile } : {}),
    PGAPPNAME: 'trend-service-backup',
    PGCONNECT_TIMEOUT: '10',
  };
}

/**
 * The process port of the backup module: finds the pg tools, starts them with a minimal
 * environment in their own process group (`detached`), so a terminal's Ctrl-C, which reaches
 * the whole foreground group, never kills a pg_restore behind the service's back. The service
 * stops them itself on shutdown (and callers stop them when a job is cut short). Tests replace
 * it, or point PG_BIN_DIR at fake tools.
 */
@Injectable()
export class PgProcessRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PgProcessRunner.name);
  private readonly children = new Set<ChildProcess>();
  private stopping = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * A signal starts a drain delay before app.close(): stop the children at once, so the job
   * records the interruption while the pools are still open.
   */
  @OnAppEvent(LIFECYCLE_STOPPING, { suppressErrors: true })
  onServiceStopping(): void {
    this.stopAll();
  }

  /** True once the service began shutting down: failures after this are interruptions. */
  get shuttingDown(): boolean {
    return this.stopping;
  }

  resolve(tool: PgTool): string {
    return resolvePgTool(tool, this.config.backup.pgBinDir);
  }

  /** Resolves the tool and refuses one older than the server. */
  async checked(tool: PgTool, server: { major: number; version: string }): Promise<string> {
    const path = this.resolve(tool);
    checkToolAgainstServer(tool, await this.version(path), server);
    return path;
  }

  async version(path: string): Promise<{ major: number; version: string }> {
    const { stdout } = await this.run(path, ['--version'], undefined, 'version_unknown');
    return parseToolVersion(stdout);
  }

  /** Starts a tool in its own process group with the minimal environment. */
  spawn(
    path: string,
    args: string[],
    target: ConnectionTarget | undefined,
    stdio: SpawnOptions['stdio'],
  ): ChildProcess {
    if (this.stopping) throw new ShutdownInterrupt(toolName(path));
    const child = spawn(path, args, { env: minimalPgEnv(target), stdio, detached: true });
    this.children.add(child);
    const forget = () => this.children.delete(child);
    child.once('close', forget);
    child.once('error', forget);
    return child;
  }

  /** Runs a tool to completion, collecting stdout and (bounded) stderr; rejects on a non-zero exit. */
  run(
    path: string,
    args: string[],
    target: ConnectionTarget | undefined,
    type: string,
  ): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = this.spawn(path, args, target, ['ignore', 'pipe', 'pipe']);
      } catch (error) {
        return reject(error as Error);
      }
      const out: Buffer[] = [];
      child.stdout!.on('data', (c: Buffer) => out.push(c));
      const stderr = collectStderr(child);
      child.on('error', (error) => reject(new BackupError(type, `${path}: ${error.message}`)));
      child.on('close', (code, signal) => {
        const text = Buffer.concat(out).toString('utf8');
        if (code === 0) return resolve({ stdout: text, stderr: stderr() });
        if (this.stopping) return reject(new ShutdownInterrupt(toolName(path)));
        reject(
          new BackupError(
            type,
            `${toolName(path)} exited with ${signal ?? code}: ${stderr() || 'no output'}`,
          ),
        );
      });
    });
  }

  /** Ends a child and anything it started (its whole process group). */
  kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  }

  /** Number of tool processes still running (for tests and logs). */
  get running(): number {
    return this.children.size;
  }

  /** Stops every child: they would otherwise outlive the service in their own group. */
  stopAll(): void {
    this.stopping = true;
    if (this.children.size)
      this.logger.warn(`stopping ${this.children.size} pg tool process(es) for shutdown`);
    for (const child of this.children) this.kill(child);
  }

  beforeApplicationShutdown(): void {
    this.stopAll();
  }
}

export const toolName = (path: string) => path.split(/[\\/]/).pop() ?? path;
