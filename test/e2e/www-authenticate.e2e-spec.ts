import { sign } from 'jsonwebtoken';
import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens';

const TOP = '/api/v1/trends/top';

/** RFC 6750 §3: every 401 carries a Bearer challenge (issue 10 item 6). */
describe('401 answers carry WWW-Authenticate: Bearer', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('www_authenticate');
    t = await startTestApp(db, { DB_MAX_CONNECTIONS: '2' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('without any credentials: bare Bearer challenge, no error code', async () => {
    const res = await request(t.http).get(TOP);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
  });

  it('another scheme (Basic) is not a bearer token: bare challenge', async () => {
    const res = await request(t.http).get(TOP).set('Authorization', 'Basic YTpi');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it.each([
    ['malformed', 'not.a.jwt'],
    ['bad signature', sign({ sub: 'x', roles: ['admin'] }, 'x'.repeat(40), { expiresIn: 60 })],
    [
      'expired',
      sign(
        { sub: 'x', roles: ['admin'], exp: Math.floor(Date.now() / 1000) - 60 },
        TEST_JWT_SECRET,
      ),
    ],
  ])('a %s token: error="invalid_token"', async (_label, token) => {
    const res = await request(t.http).get(TOP).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('a valid token with the wrong role is 403 without a challenge; a good one is 200', async () => {
    const forbidden = await request(t.http)
      .get(TOP)
      .set('Authorization', `Bearer ${tokenFor(['ingest'])}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers['www-authenticate']).toBeUndefined();
    const ok = await request(t.http)
      .get(TOP)
      .set('Authorization', `Bearer ${tokenFor(['analyst'])}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['www-authenticate']).toBeUndefined();
  });
});
