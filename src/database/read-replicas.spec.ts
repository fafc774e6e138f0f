import { ConfigError, hasReadReplicas, loadConfig } from '../config/config';
import { connectionTarget } from './data-source';
import { replicaEndpoints } from './read-replicas.service';
import { parseLsn } from './write-position';

const endpoints = (env: Record<string, string>) => {
  const config = loadConfig({ DB_HOST: 'primary', DB_PORT: '5433', DB_NAME: 'trends', ...env });
  return replicaEndpoints(config.db, connectionTarget(config.db));
};

describe('read replica configuration', () => {
  it('has no replicas (and no routing) unless configured', () => {
    const config = loadConfig({ DB_HOST: 'primary' });
    expect(hasReadReplicas(config.db)).toBe(false);
    // Empty means unset, as for DB_HOST (docker-compose passes `${DB_READ_HOST:-}`).
    expect(hasReadReplicas(loadConfig({ DB_HOST: 'primary', DB_READ_HOST: '' }).db)).toBe(false);
    expect(config.db.read.maxLagMs).toBe(5000);
    expect(config.db.read.poolMax).toBe(4);
  });

  it("defaults port, user, password and database to the primary's", () => {
    expect(
      endpoints({ DB_USER: 'app', DB_PASSWORD: 's3cret', DB_READ_HOST: 'r1, r2:6000' }),
    ).toEqual([
      {
        name: 'r1:5433',
        host: 'r1',
        port: 5433,
        user: 'app',
        password: 's3cret',
        database: 'trends',
      },
      {
        name: 'r2:6000',
        host: 'r2',
        port: 6000,
        user: 'app',
        password: 's3cret',
        database: 'trends',
      },
    ]);
    expect(
      endpoints({
        DB_READ_HOST: 'r1',
        DB_READ_PORT: '6432',
        DB_READ_USER: 'reader',
        DB_READ_PASSWORD: 'pw',
        DB_READ_NAME: 'other',
      }),
    ).toEqual([
      {
        name: 'r1:6432',
        host: 'r1',
        port: 6432,
        user: 'reader',
        password: 'pw',
        database: 'other',
      },
    ]);
  });

  it('reads DATABASE_READ_URL (several, comma-separated)', () => {
    expect(
      endpoints({
        DATABASE_READ_URL: 'postgres://ro:p%40ss@r1:6000/db1,postgresql://r2',
      }),
    ).toEqual([
      { name: 'r1:6000', host: 'r1', port: 6000, user: 'ro', password: 'p@ss', database: 'db1' },
      {
        name: 'r2:5432',
        host: 'r2',
        port: 5432,
        user: 'postgres',
        password: '',
        database: 'trends',
      },
    ]);
  });

  it('names the variable of a bad setting', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ DB_HOST: 'primary', ...env });
        return '';
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
    };
    expect(problems({ DB_READ_HOST: ' , ' })).toMatch(/DB_READ_HOST: must list at least one host/);
    expect(problems({ DATABASE_READ_URL: 'mysql://x' })).toMatch(/DATABASE_READ_URL: each URL/);
    expect(problems({ DB_READ_HOST: 'r', DATABASE_READ_URL: 'postgres://r' })).toMatch(
      /DATABASE_READ_URL: set either/,
    );
    expect(problems({ DB_READ_MAX_LAG_MS: '-1' })).toMatch(/DB_READ_MAX_LAG_MS/);
    expect(problems({ DB_READ_POOL_MAX: '0' })).toMatch(/DB_READ_POOL_MAX/);
    expect(problems({ DB_READ_PORT: 'abc' })).toMatch(/DB_READ_PORT/);
  });
});

describe('parseLsn', () => {
  it('turns hi/lo hex into a byte position that orders like pg_lsn', () => {
    expect(parseLsn('0/0')).toBe(0);
    expect(parseLsn('0/16B3748')).toBe(0x16b3748);
    expect(parseLsn('16/B374D848')).toBe(0x16 * 2 ** 32 + 0xb374d848);
    expect(parseLsn('1/0')! > parseLsn('0/FFFFFFFF')!).toBe(true);
    expect(parseLsn(null)).toBeNull();
    expect(parseLsn('garbage')).toBeNull();
  });
});
