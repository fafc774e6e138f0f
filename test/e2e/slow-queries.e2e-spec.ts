import { Logger } from '@nestjs/common';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { freePort } from '../../src/common/free-port';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';

const SLOW_MS = 300;
const PG_BIN = '/usr/lib/postgresql/15/bin';

async function slowQueryCount(t: TestApp, source: string): Promise<number> {
  const res = await request(t.http).get('/metrics');
  const line = res.text
    .split('\n')
    .find((l) => l.startsWith(`db_slow_queries_total{source="${source}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Waits (bounded) until some backend of `db` waits for a lock. */
async function someoneWaitsForLock(client: Client): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND database =
         (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    if (rows[0].n > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no statement ever waited for the lock');
}

describe('slow-query log and statement report (SPEC §17)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    db = await createTestDatabase('slowq');
    t = await startTestApp(db, { DB_SLOW_QUERY_MS: String(SLOW_MS), DB_MAX_CONNECTIONS: '4' });
    const at = new Date(Date.now() - 60_000).toISOString();
    const res = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({ observations: [{ platform: 'x', trendKey: 'slow', observedAt: at, mentions: 5 }] });
    expect(res.status).toBe(201);
  });

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn');
  });

  afterEach(() => warn.mockRestore());

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const slowLines = () =>
    warn.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith('slow statement'));

  it('fast statements are neither logged nor counted', async () => {
    const res = await request(t.http)
      .get('/api/v1/trends/top?window=24h')
      .set(bearer(['analyst']));
    expect(res.status).toBe(200);
    expect(slowLines()).toEqual([]);
    expect(await slowQueryCount(t, '/api/v1/trends/top')).toBe(0);
  });

  it('a statement held up by a lock is logged once, with its route, and counted once', async () => {
    const blocker = await db.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE trend_rollups_hourly IN ACCESS EXCLUSIVE MODE');
      const pending = request(t.http)
        .get('/api/v1/trends/top?window=6h&limit=7')
        .set(bearer(['analyst']))
        .set('Cache-Control', 'no-cache')
        .then((r) => r);
      await someoneWaitsForLock(blocker);
      // Hold the lock past the threshold: the waiting statement's duration includes the wait.
      await new Promise((r) => setTimeout(r, SLOW_MS + 200));
      await blocker.query('ROLLBACK');
      expect((await pending).status).toBe(200);
    } finally {
      await blocker.end();
    }
    const lines = slowLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('(source /api/v1/trends/top)');
    expect(lines[0]).toMatch(/trend_rollups_hourly/);
    expect(await slowQueryCount(t, '/api/v1/trends/top')).toBe(1);
  });

  it('reports that pg_stat_statements is not available where it is not installed', async () => {
    const res = await request(t.http)
      .get('/api/v1/admin/maintenance/queries')
      .set(bearer(['admin']));
    expect(res.status).toBe(200);
    expect(res.body.available).toBe(false);
    expect(res.body.reason).toMatch(/shared_preload_libraries/);
    const bad = await request(t.http)
      .get('/api/v1/admin/maintenance/queries?limit=0')
      .set(bearer(['admin']));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('limit');
    const analyst = await request(t.http)
      .get('/api/v1/admin/maintenance/queries')
      .set(bearer(['analyst']));
    expect(analyst.status).toBe(403);
  });
});

/** A throwaway cluster with pg_stat_statements preloaded (Debian's PostgreSQL 15 binaries). */
describe('statement report with pg_stat_statements', () => {
  let dir: string;
  let port: number;
  let t: TestApp | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trend-pgss-'));
    chmodSync(dir, 0o755);
    execFileSync('chown', ['postgres', dir]);
    port = await freePort();
    const asPostgres = (cmd: string, args: string[]) =>
      execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args], {
        stdio: 'pipe',
      });
    asPostgres('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    asPostgres('pg_ctl', [
      '-D',
      join(dir, 'data'),
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c shared_preload_libraries=pg_stat_statements`,
      'start',
    ]);
    const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query('CREATE DATABASE trends');
    await admin.end();
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'trends' });
    await client.connect();
    await client.query('CREATE EXTENSION pg_stat_statements');
    await client.end();
  });

  afterAll(async () => {
    await t?.close();
    spawnSync('runuser', [
      '-u',
      'postgres',
      '--',
      join(PG_BIN, 'pg_ctl'),
      '-D',
      join(dir, 'data'),
      '-m',
      'immediate',
      'stop',
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the top statements by total time, without parameter values', async () => {
    const db = {
      env: {
        DB_HOST: '127.0.0.1',
        DB_PORT: String(port),
        DB_USER: 'postgres',
        DB_PASSWORD: '',
        DB_NAME: 'trends',
        DB_MAX_CONNECTIONS: '4',
      },
    } as unknown as TestDatabase;
    t = await startTestApp(db);
    const at = new Date(Date.now() - 60_000).toISOString();
    await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({
        observations: [{ platform: 'x', trendKey: 'secret-key-42', observedAt: at, mentions: 5 }],
      })
      .expect(201);
    const res = await request(t.http)
      .get('/api/v1/admin/maintenance/queries?limit=5')
      .set(bearer(['admin']));
    expect(res.status).toBe(200);
    expect(res.body.available).toBe(true);
    expect(res.body.items.length).toBeGreaterThan(0);
    expect(res.body.items.length).toBeLessThanOrEqual(5);
    const totals = res.body.items.map((i: { totalMs: number }) => i.totalMs);
    expect(totals).toEqual([...totals].sort((a: number, b: number) => b - a));
    expect(JSON.stringify(res.body)).not.toContain('secret-key-42');
  });
});
