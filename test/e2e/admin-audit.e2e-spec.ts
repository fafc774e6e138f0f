import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { freePort, testPrefix } from '../support/redis';
import { bearer, tokenFor } from '../support/tokens';

/** Admin actions that fail (an exception, not a failed job run) are audited too. */
describe('audit of failed admin actions', () => {
  let db: TestDatabase;
  let t: TestApp;
  const auditor = { Authorization: `Bearer ${tokenFor(['admin'], 'auditor')}` };

  beforeAll(async () => {
    db = await createTestDatabase('admin_audit');
    // Redis where nothing listens: the cache clear fails.
    t = await startTestApp(db, {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(await freePort()),
      REDIS_KEY_PREFIX: testPrefix('admin-audit'),
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const lastAudit = async (action: string) => {
    const rows = await db.query<{ actor: string; target: string | null; details: unknown }>(
      `SELECT actor, target, details FROM admin_audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1`,
      [action],
    );
    return rows[0];
  };

  it('cache clear with the store down: 503 and an audit entry saying so', async () => {
    const res = await request(t.http).delete('/api/v1/admin/cache').set(auditor);
    expect(res.status).toBe(503);
    expect(await lastAudit('cache.clear')).toEqual({
      actor: 'auditor',
      target: 'cache',
      details: { status: 'failed', error: 'Cache store unavailable; nothing was cleared' },
    });
  });

  it('retention and maintenance runs that cannot even record a job run are audited as failed', async () => {
    await db.query('ALTER TABLE job_runs RENAME TO job_runs_hidden');
    try {
      const retention = await request(t.http).post('/api/v1/admin/retention/run').set(auditor);
      expect(retention.status).toBe(500);
      expect(await lastAudit('retention.run')).toEqual({
        actor: 'auditor',
        target: 'partitions',
        details: {
          dryRun: false,
          status: 'failed',
          error: 'relation "job_runs" does not exist',
        },
      });
      const maintenance = await request(t.http)
        .post('/api/v1/admin/maintenance/run?task=analyze')
        .set(auditor);
      expect(maintenance.status).toBe(500);
      expect(await lastAudit('maintenance.run')).toEqual({
        actor: 'auditor',
        target: 'index-maintenance',
        details: { task: 'analyze', status: 'failed', error: 'relation "job_runs" does not exist' },
      });
    } finally {
      await db.query('ALTER TABLE job_runs_hidden RENAME TO job_runs');
    }
  });

  it('backup create, verify and restore refusals are audited as failed', async () => {
    await db.query('ALTER TABLE backups RENAME TO backups_hidden');
    try {
      const create = await request(t.http).post('/api/v1/admin/backups').set(auditor);
      expect(create.status).toBe(500);
    } finally {
      await db.query('ALTER TABLE backups_hidden RENAME TO backups');
    }
    const created = await lastAudit('backup.create');
    expect(created).toEqual({
      actor: 'auditor',
      target: expect.stringMatching(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/),
      details: { trigger: 'api', status: 'failed', error: 'relation "backups" does not exist' },
    });

    const verify = await request(t.http).post('/api/v1/admin/backups/nope/verify').set(auditor);
    expect(verify.status).toBe(404);
    expect(await lastAudit('backup.verify')).toEqual({
      actor: 'auditor',
      target: 'nope',
      details: { trigger: 'api', status: 'failed', error: 'backup nope not found' },
    });

    const restore = await request(t.http)
      .post('/api/v1/admin/backups/nope/restore')
      .set(auditor)
      .send({ confirm: 'nope', targetDatabase: db.name });
    expect(restore.status).toBe(404);
    expect(await lastAudit('backup.restore')).toEqual({
      actor: 'auditor',
      target: 'nope',
      details: {
        trigger: 'api',
        targetDatabase: db.name,
        overLiveDatabase: true,
        force: false,
        status: 'failed',
        error: 'backup nope not found',
      },
    });
  });

  it('a successful action is audited once, with its outcome', async () => {
    const res = await request(t.http)
      .post('/api/v1/admin/retention/run?dryRun=true')
      .set(bearer(['admin']));
    expect(res.status).toBe(200);
    const rows = await db.query<{ details: unknown }>(
      `SELECT details FROM admin_audit_log WHERE action = 'retention.run' AND actor = 'tester'`,
    );
    expect(rows).toEqual([{ details: { dryRun: true } }]);
  });
});
