import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';

/**
 * discard() (session.ts) calls TypeORM's private releasePostgresConnection(err) so pg-pool
 * closes a connection that could not be reset. Without it the fallback release() would put a
 * connection with leaked settings back into the pool: fail loudly on the upgrade instead.
 * (test/e2e/database-session.e2e-spec.ts checks the behaviour against a real server.)
 */
describe('TypeORM internal used by discard()', () => {
  it('PostgresQueryRunner still has releasePostgresConnection(err)', () => {
    const release = (
      PostgresQueryRunner.prototype as unknown as { releasePostgresConnection?: unknown }
    ).releasePostgresConnection;
    expect(typeof release).toBe('function');
  });
});
