import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { quoteStrictIdent } from '../database/identifiers';
import { withSession } from '../database/session';

export interface ArchivedPartition {
  table: string;
  partition: string;
  /** File name under BACKUP_DIR/archive. */
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * Writes one partition to `<dir>/<partition>-<stamp>.csv.gz` (CSV with a header, the format
 * `COPY … FROM` reads back) through COPY TO STDOUT and gzip, hashing the compressed bytes on
 * the way. Written to a .partial name first, so a crash never leaves a file that looks whole.
 */
export async function archivePartition(
  dataSource: DataSource,
  dir: string,
  table: string,
  partition: string,
  now: Date,
): Promise<ArchivedPartition> {
  await mkdir(dir, { recursive: true });
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
  const file = `${partition}-${stamp}.csv.gz`;
  const target = join(dir, file);
  const partial = `${target}.partial`;
  const hash = createHash('sha256');
  let bytes = 0;
  // A big partition may take longer than the pool's statement_timeout.
  return withSession(dataSource, { statementTimeoutMs: 0 }, async (runner) => {
    const client = (await runner.connect()) as PoolClient;
    try {
      const copy = client.query(
        copyTo(
          `COPY (SELECT * FROM ${quoteStrictIdent(partition)}) TO STDOUT WITH (FORMAT csv, HEADER true)`,
        ),
      );
      const count = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(copy, createGzip(), count, createWriteStream(partial));
      await rename(partial, target);
      return {
        table,
        partition,
        file,
        rows: copy.rowCount ?? 0,
        bytes,
        sha256: hash.digest('hex'),
      };
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  });
}
