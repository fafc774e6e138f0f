import { Logger } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { quoteStrictIdent } from './identifiers';

export interface SessionOptions {
  /** statement_timeout for this work in ms (0 = none); unset keeps the pool's default. */
  statementTimeoutMs?: number;
  /** lock_timeout for this work in ms (0 = none); unset keeps the server default. */
  lockTimeoutMs?: number;
  /** Run `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction?: boolean;
  /** A READ ONLY transaction (requires `transaction`). */
  readOnly?: boolean;
}

const logger = new Logger('DatabaseSession');

/**
 * Runs `work` on one pooled connection with the given settings, which hold for exactly that
 * work. In a transaction they are set transaction-local and end with it. Without one (for
 * statements that refuse a transaction, such as REINDEX CONCURRENTLY) they are set for the
 * session and RESET afterwards; a connection that cannot be reset or rolled back is
 * discarded by the pool instead of being handed, still altered, to the next caller.
 */
export async function withSession<T>(
  dataSource: DataSource,
  options: SessionOptions,
  work: (db: QueryRunner) => Promise<T>,
): Promise<T> {
  if (options.readOnly && !options.transaction)
    throw new Error('withSession: readOnly requires transaction');
  const settings: [string, number][] = [];
  if (options.statementTimeoutMs !== undefined)
    settings.push(['statement_timeout', options.statementTimeoutMs]);
  if (options.lockTimeoutMs !== undefined) settings.push(['lock_timeout', options.lockTimeoutMs]);

  const runner = dataSource.createQueryRunner();
  await runner.connect();
  let broken: Error | undefined;
  try {
    if (options.transaction) {
      await runner.query(options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
      try {
        await applySettings(runner, settings, true);
        const result = await work(runner);
        await runner.query('COMMIT');
        return result;
      } catch (error) {
        await runner.query('ROLLBACK').catch((e: Error) => {
          broken = e;
        });
        throw error;
      }
    }
    try {
      await applySettings(runner, settings, false);
      return await work(runner);
    } finally {
      for (const [name] of settings) {
        if (broken) break;
        // Names come from the fixed list above, never from a caller; quoted all the same.
        await runner.query(`RESET ${quoteStrictIdent(name)}`).catch((e: Error) => {
          broken = e;
        });
      }
    }
  } finally {
    if (broken) {
      logger.warn(`session could not be cleaned up (${broken.message}); connection discarded`);
      await discard(runner, broken);
    } else {
      await runner.release();
    }
  }
}

/** One round trip: set_config(name, value, is_local) for every setting. */
async function applySettings(
  runner: QueryRunner,
  settings: [string, number][],
  local: boolean,
): Promise<void> {
  if (settings.length === 0) return;
  const calls = settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, ${local})`);
  const params = settings.flatMap(([name, ms]) => [name, `${Math.floor(ms)}ms`]);
  await runner.query(`SELECT ${calls.join(', ')}`, params);
}

/**
 * Releases with an error, which tells pg-pool to close the connection rather than reuse it.
 * TypeORM's public release() takes no error; its private releasePostgresConnection passes one
 * to pg-pool. This is the one place that calls it; session.spec.ts fails loudly if an upgrade
 * removes it (the fallback would return a broken connection to the pool).
 */
export async function discard(runner: QueryRunner, error: Error): Promise<void> {
  const release = (
    runner as unknown as { releasePostgresConnection?: (err: Error) => Promise<void> }
  ).releasePostgresConnection;
  if (release) await release.call(runner, error);
  else await runner.release();
}
