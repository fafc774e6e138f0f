import { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConnectionTarget } from '../database/data-source';

export type PgTool = 'pg_dump' | 'pg_restore' | 'psql';

/** A failure with a stable, bounded `type` for errors_total and the step it happened in. */
export class BackupError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Finds pg_dump/pg_restore in PG_BIN_DIR, or else on PATH. */
export function resolvePgTool(tool: PgTool, binDir?: string): string {
  const dirs = binDir ? [binDir] : (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next directory
    }
  }
  const where = binDir ? `in PG_BIN_DIR (${binDir})` : 'on PATH';
  throw new BackupError(
    `${tool}_missing`,
    `${tool} not found ${where}; install the PostgreSQL client tools matching the server ` +
      `(Debian/Ubuntu: apt-get install postgresql-client, or postgresql-client-<major> from apt.postgresql.org) or set PG_BIN_DIR`,
  );
}

/** Connection arguments (no password). */
export function connArgs(target: ConnectionTarget, database: string): string[] {
  return [
    '--host',
    target.host,
    '--port',
    String(target.port),
    '--username',
    target.user,
    '--no-password',
    '--dbname',
    database,
  ];
}

/** Keeps the last 4 KB of stderr (enough for the error line, bounded for huge outputs). */
export function collectStderr(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (c: Buffer) => {
    text = (text + c.toString('utf8')).slice(-4096);
  });
  return () => text.trim();
}

/** "pg_dump (PostgreSQL) 15.20 (Debian …)" → { major: 15, version: "15.20" }. */
export function parseToolVersion(output: string): { major: number; version: string } {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (!match)
    throw new BackupError(
      'version_unknown',
      `cannot read the tool version from "${output.trim()}"`,
    );
  return { major: Number(match[1]), version: match[2] ? `${match[1]}.${match[2]}` : match[1] };
}

/** server_version_num 150020 → 15; 90624 → 9. */
export const serverMajor = (versionNum: number) => Math.floor(versionNum / 10000);

/**
 * pg_dump refuses servers newer than itself; say so up front, naming both versions.
 * A newer pg_dump against an older server is fine.
 */
export function checkToolAgainstServer(
  tool: PgTool,
  toolVer: { major: number; version: string },
  server: { major: number; version: string },
): void {
  if (toolVer.major < server.major) {
    throw new BackupError(
      'version_mismatch',
      `${tool} ${toolVer.version} is older than the server ${server.version}; install postgresql-client-${server.major} ` +
        `(or newer) and point PG_BIN_DIR at its bin directory`,
    );
  }
}

/** Database names we create: lower-case [a-z0-9_], at most 63 bytes, suffix kept whole. */
export function scratchDatabaseName(base: string, kind: 'verify' | 'restore', id: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  const suffix = `_${kind}_${clean(id)}`;
  return `${clean(base).slice(0, Math.max(1, 63 - suffix.length))}${suffix}`.slice(0, 63);
}
