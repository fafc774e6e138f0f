import { Inject, Injectable, Logger } from '@nestjs/common';
import { ChildProcess } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { ConnectionTarget, pgClientConfig } from '../database/data-source';
import { CONNECTION_TARGET } from '../database/database.service';
import { BackupRepository, BackupRow, RowCounts } from './backup.repository';
import { PgProcessRunner, ShutdownInterrupt } from './pg-process';
import { BackupError, collectStderr, connArgs } from './pg-tools';

export interface RowCountComparison {
  tablesCompared: number;
  mismatches: { table: string; expected: number; actual: number | null }[];
}

/**
 * pg_restore into a database of ours, or over the live database in one transaction, and the
 * row-count comparison against the manifest (partitions and partitioned tables' totals).
 */
@Injectable()
export class BackupRestorer {
  private readonly logger = new Logger(BackupRestorer.name);

  constructor(
    @Inject(CONNECTION_TARGET) private readonly target: ConnectionTarget,
    private readonly backups: BackupRepository,
    private readonly tools: PgProcessRunner,
  ) {}

  /** pg_restore --list: the number of archive entries. */
  async listEntries(pgRestore: string, archive: string): Promise<number> {
    const listing = await this.tools.run(pgRestore, ['--list', archive], undefined, 'list_failed');
    return listing.stdout.split('\n').filter((l) => l && !l.startsWith(';')).length;
  }

  async intoDatabase(pgRestore: string, archive: string, database: string): Promise<void> {
    // --no-owner/--no-acl: the restoring role owns what it creates, whatever role made the dump.
    const args = [
      '--exit-on-error',
      '--single-transaction',
      '--no-owner',
      '--no-acl',
      ...connArgs(this.target, database),
    ];
    await this.tools.run(pgRestore, [...args, archive], this.target, 'restore_failed');
  }

  /**
   * Over the live database in ONE transaction: drop the public schema, recreate it and replay
   * the archive as SQL (pg_restore --file=- | psql --single-transaction). Any error rolls the
   * whole thing back, leaving the live data untouched. The backups ledger is carried over.
   * (pg_restore --clean cannot drop the inherited constraints of partitions, so it is not used.)
   */
  async overLive(pgRestore: string, archive: string): Promise<void> {
    const psql = this.tools.resolve('psql');
    const producer = this.tools.spawn(
      pgRestore,
      ['--no-owner', '--no-acl', '--file=-', archive],
      undefined,
      ['ignore', 'pipe', 'pipe'],
    );
    let consumer: ChildProcess;
    try {
      consumer = this.tools.spawn(
        psql,
        [
          '--no-psqlrc',
          '--quiet',
          '--single-transaction',
          '--set',
          'ON_ERROR_STOP=1',
          ...connArgs(this.target, this.target.database),
          '--command',
          "SET lock_timeout = '30s'",
          // The backups ledger describes files on disk, which a restore does not change: keep it.
          '--command',
          'CREATE TEMP TABLE keep_backups AS SELECT to_jsonb(b) AS row FROM public.backups b',
          '--command',
          'DROP SCHEMA IF EXISTS public CASCADE',
          '--command',
          'CREATE SCHEMA public',
          '--file',
          '-',
          '--command',
          'DELETE FROM public.backups',
          '--command',
          'INSERT INTO public.backups SELECT (jsonb_populate_record(NULL::public.backups, row)).* FROM pg_temp.keep_backups',
        ],
        this.target,
        ['pipe', 'ignore', 'pipe'],
      );
    } catch (error) {
      this.tools.kill(producer);
      throw error;
    }
    const producerErr = collectStderr(producer);
    const consumerErr = collectStderr(consumer);
    const exit = (child: ChildProcess) =>
      new Promise<number | string>((resolve) => {
        child.once('error', (e) => resolve(e.message));
        child.once('close', (code, signal) => resolve(signal ?? code ?? -1));
      });
    const [producerExit, consumerExit] = await Promise.all([
      exit(producer),
      exit(consumer),
      pipeline(producer.stdout!, consumer.stdin!).catch(() => undefined),
    ]);
    if ((producerExit !== 0 || consumerExit !== 0) && this.tools.shuttingDown)
      throw new ShutdownInterrupt('the restore');
    if (consumerExit !== 0)
      throw new BackupError(
        'restore_failed',
        `psql exited with ${consumerExit}: ${consumerErr() || 'no output'}`,
      );
    if (producerExit !== 0)
      throw new BackupError(
        'restore_failed',
        `pg_restore exited with ${producerExit}: ${producerErr() || 'no output'}`,
      );
  }

  /** Exact counts in `database` against the manifest's (every partition and every total). */
  async compareRowCounts(row: BackupRow, database: string): Promise<RowCountComparison> {
    const expected = ((row.manifest?.rowCounts as { tables?: RowCounts } | undefined)?.tables ??
      {}) as RowCounts;
    const client = new Client(pgClientConfig(this.target, database));
    // A session ended by the server fails the counts below (actual: null), not the process.
    client.on('error', (error) =>
      this.logger.warn(`row-count session on ${database} ended: ${error.message}`),
    );
    await client.connect();
    const mismatches: RowCountComparison['mismatches'] = [];
    try {
      await client.query('SET statement_timeout = 0');
      for (const [table, count] of Object.entries(expected)) {
        const actual = await this.backups.countRows(client, table).catch(() => null);
        if (actual !== count) mismatches.push({ table, expected: count, actual });
      }
    } finally {
      await client.end();
    }
    return { tablesCompared: Object.keys(expected).length, mismatches };
  }
}
