import { generateKeyPairSync } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_JWT_SECRET } from '../support/tokens';

const TOP = '/api/v1/trends/top';
const INGEST = '/api/v1/trends/observations';
const JOBS = '/api/v1/admin/jobs';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('authentication and roles', () => {
  let db: TestDatabase;
  let t: TestApp;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  beforeAll(async () => {
    db = await createTestDatabase('auth');
    t = await startTestApp(db, { JWT_PUBLIC_KEY: publicPem, JWT_ISSUER: 'issuer-x' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const get = (path: string, token?: string) => {
    const req = request(t.http).get(path);
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };
  const issued = (payload: object, options: object = {}) =>
    sign(payload, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 600,
      issuer: 'issuer-x',
      ...options,
    });

  it('401 without a token', async () => {
    const res = await get(TOP);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
  });

  it('401 for a malformed Authorization header', async () => {
    expect((await request(t.http).get(TOP).set('Authorization', 'Basic abc')).status).toBe(401);
    expect((await get(TOP, 'not.a.jwt')).status).toBe(401);
  });

  it('401 for a bad signature', async () => {
    expect(
      (
        await get(
          TOP,
          sign({ sub: 'x', roles: ['admin'] }, 'another-secret-of-32-bytes-or-more!!', {
            expiresIn: 60,
            issuer: 'issuer-x',
          }),
        )
      ).status,
    ).toBe(401);
  });

  it('401 for alg none', async () => {
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'x', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 60, iss: 'issuer-x' })}.`;
    expect((await get(TOP, none)).status).toBe(401);
  });

  it('401 for an unlisted algorithm (HS512 with the right secret)', async () => {
    const hs512 = sign({ sub: 'x', roles: ['admin'] }, TEST_JWT_SECRET, {
      algorithm: 'HS512',
      expiresIn: 60,
      issuer: 'issuer-x',
    });
    expect((await get(TOP, hs512)).status).toBe(401);
  });

  it('401 for an expired token and for one without exp', async () => {
    const expired = sign(
      { sub: 'x', roles: ['admin'], exp: Math.floor(Date.now() / 1000) - 10 },
      TEST_JWT_SECRET,
      {
        algorithm: 'HS256',
        issuer: 'issuer-x',
      },
    );
    expect((await get(TOP, expired)).status).toBe(401);
    const noExp = sign({ sub: 'x', roles: ['admin'] }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      issuer: 'issuer-x',
    });
    expect((await get(TOP, noExp)).status).toBe(401);
  });

  it('401 for the wrong issuer', async () => {
    expect(
      (await get(TOP, issued({ sub: 'x', roles: ['admin'] }, { issuer: 'someone-else' }))).status,
    ).toBe(401);
  });

  it('accepts HS256 with the configured issuer', async () => {
    expect((await get(TOP, issued({ sub: 'x', roles: ['analyst'] }))).status).toBe(200);
  });

  it('accepts RS256 signed by the configured key', async () => {
    const rs = sign({ sub: 'x', roles: ['analyst'] }, privateKey, {
      algorithm: 'RS256',
      expiresIn: 60,
      issuer: 'issuer-x',
    });
    expect((await get(TOP, rs)).status).toBe(200);
  });

  it('403 when the role does not match', async () => {
    const ingestOnly = issued({ sub: 'collector', roles: ['ingest'] });
    const res = await get(TOP, ingestOnly);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    const analyst = issued({ sub: 'dash', roles: ['analyst'] });
    const post = await request(t.http)
      .post(INGEST)
      .set('Authorization', `Bearer ${analyst}`)
      .send({
        observations: [
          { platform: 'x', trendKey: 'k', observedAt: new Date().toISOString(), mentions: 1 },
        ],
      });
    expect(post.status).toBe(403);
    expect((await get(JOBS, analyst)).status).toBe(403);
    expect((await get(JOBS, issued({ sub: 'root', roles: ['admin'] }))).status).toBe(200);
  });

  it('403 for a token without roles', async () => {
    expect((await get(TOP, issued({ sub: 'nobody' }))).status).toBe(403);
  });

  it('keeps health open', async () => {
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health/ready')).status).toBe(200);
  });

  it('serves the OpenAPI document', async () => {
    const res = await get('/api/docs-json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/trends/observations',
        '/api/v1/trends/top',
        '/api/v1/trends/{trendKey}/series',
      ]),
    );
  });
});
