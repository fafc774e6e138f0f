import {
  BackupError,
  checkToolAgainstServer,
  parseToolVersion,
  resolvePgTool,
  scratchDatabaseName,
} from './pg-tools';

describe('pg tools', () => {
  it('reads tool versions', () => {
    expect(parseToolVersion('pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n')).toEqual({
      major: 15,
      version: '15.20',
    });
    expect(parseToolVersion('pg_restore (PostgreSQL) 17beta1')).toEqual({
      major: 17,
      version: '17',
    });
  });

  it('refuses a pg_dump older than the server, naming both versions', () => {
    expect(() =>
      checkToolAgainstServer(
        'pg_dump',
        { major: 14, version: '14.9' },
        { major: 15, version: '15.20' },
      ),
    ).toThrow(/pg_dump 14\.9 is older than the server 15\.20; install postgresql-client-15/);
    expect(() =>
      checkToolAgainstServer(
        'pg_dump',
        { major: 16, version: '16.1' },
        { major: 15, version: '15.20' },
      ),
    ).not.toThrow();
  });

  it('names the package when pg_dump is missing', () => {
    const error = (() => {
      try {
        resolvePgTool('pg_dump', '/nonexistent-dir-for-test');
      } catch (e) {
        return e as BackupError;
      }
    })();
    expect(error?.type).toBe('pg_dump_missing');
    expect(error?.message).toMatch(/pg_dump not found in PG_BIN_DIR .*postgresql-client/);
  });

  it('builds safe scratch database names of at most 63 bytes', () => {
    expect(scratchDatabaseName('Trend-Prod', 'verify', '20261121T020000Z-ab12cd')).toBe(
      'trend_prod_verify_20261121t020000z_ab12cd',
    );
    const long = scratchDatabaseName('x'.repeat(80), 'restore', '20261121T020000Z-ab12cd');
    expect(long).toHaveLength(63);
    expect(long.endsWith('_restore_20261121t020000z_ab12cd')).toBe(true);
  });
});
