import { DataSource, QueryRunner } from 'typeorm';
import { withSession } from '../../src/database/session';
import { TestDatabase, createTestDatabase } from '../support/database';

/**
 * withSession on a pool of ONE connection: every session reuses the same backend unless it
 * was discarded, so settings that leaked would show in the next session.
 */
describe('withSession', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  const show = async (q: QueryRunner, name: string): Promise<string> => {
    const [row] = (await q.query(`SELECT current_setting($1) AS v`, [name])) as { v: string }[];
    return row.v;
  };
  const pid = async (q: QueryRunner): Promise<number> => {
    const [row] = (await q.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
    return row.pid;
  };
  /** Settings and backend of a plain session with no options. */
  const plain = () =>
    withSession(dataSource, {}, async (q) => ({
      pid: await pid(q),
      statementTimeout: await show(q, 'statement_timeout'),
      lockTimeout: await show(q, 'lock_timeout'),
      readOnly: await show(q, 'transaction_read_only'),
    }));

  beforeAll(async () => {
    db = await createTestDatabase('session');
    await db.query('CREATE TABLE notes (id int PRIMARY KEY)');
    dataSource = new DataSource({
      type: 'postgres',
      host: db.server.host,
      port: db.server.port,
      username: db.server.user,
      password: db.server.password,
      database: db.name,
      poolSize: 1,
    });
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('sets transaction-local settings that end with the transaction', async () => {
    const before = await plain();
    expect(before).toMatchObject({ readOnly: 'off' });
    expect([before.statementTimeout, before.lockTimeout]).not.toContain('250ms');
    const inside = await withSession(
      dataSource,
      { transaction: true, statementTimeoutMs: 250, lockTimeoutMs: 300 },
      async (q) => ({
        pid: await pid(q),
        statementTimeout: await show(q, 'statement_timeout'),
        lockTimeout: await show(q, 'lock_timeout'),
      }),
    );
    expect(inside).toEqual({ pid: before.pid, statementTimeout: '250ms', lockTimeout: '300ms' });
    expect(await plain()).toEqual(before);
  });

  it('resets session settings after non-transactional work', async () => {
    const before = await plain();
    const inside = await withSession(
      dataSource,
      { lockTimeoutMs: 300, statementTimeoutMs: 0 },
      async (q) => {
        // Outside a transaction: CONCURRENTLY statements would be accepted here.
        await q.query('CREATE INDEX CONCURRENTLY notes_id_idx ON notes (id)');
        return { pid: await pid(q), lockTimeout: await show(q, 'lock_timeout') };
      },
    );
    expect(inside).toEqual({ pid: before.pid, lockTimeout: '300ms' });
    expect(await plain()).toEqual(before);
  });

  it('commits on success and rolls back on failure', async () => {
    await withSession(dataSource, { transaction: true }, (q) =>
      q.query('INSERT INTO notes VALUES (1)'),
    );
    await expect(
      withSession(dataSource, { transaction: true }, async (q) => {
        await q.query('INSERT INTO notes VALUES (2)');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.query('SELECT id FROM notes ORDER BY id')).toEqual([{ id: 1 }]);
  });

  it('refuses writes in a read-only transaction, and the next session can write', async () => {
    await expect(
      withSession(dataSource, { transaction: true, readOnly: true }, (q) =>
        q.query('INSERT INTO notes VALUES (3)'),
      ),
    ).rejects.toMatchObject({ driverError: { code: '25006' } });
    await withSession(dataSource, { transaction: true }, (q) =>
      q.query('INSERT INTO notes VALUES (3)'),
    );
    expect(await db.query('SELECT id FROM notes ORDER BY id')).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it('cancels a statement past its timeout with 57014 and leaves the connection clean', async () => {
    const before = await plain();
    await expect(
      withSession(dataSource, { transaction: true, statementTimeoutMs: 50 }, (q) =>
        q.query('SELECT pg_sleep(5)'),
      ),
    ).rejects.toMatchObject({ driverError: { code: '57014' } });
    expect(await plain()).toEqual(before);
  });

  it('discards a connection that could not be reset and serves the next session on a new one', async () => {
    const before = await plain();
    await expect(
      withSession(dataSource, { lockTimeoutMs: 300 }, (q) =>
        q.query('SELECT pg_terminate_backend(pg_backend_pid())'),
      ),
    ).rejects.toThrow();
    const after = await plain();
    expect(after.pid).not.toBe(before.pid);
    expect({ ...after, pid: before.pid }).toEqual(before);
  });
});
