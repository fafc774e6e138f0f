import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';

describe('smoke', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('smoke');
    t = await startTestApp(db);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('ingests and answers top', async () => {
    const now = new Date();
    const res = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({
        observations: [
          { platform: 'x', trendKey: 'Hello', observedAt: now.toISOString(), mentions: 5 },
        ],
      });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ accepted: 1, duplicates: 0 });
    const top = await request(t.http)
      .get('/api/v1/trends/top?window=1h')
      .set(bearer(['analyst']));
    expect(top.status).toBe(200);
    expect(top.body.items[0]).toMatchObject({
      trendKey: 'hello',
      displayName: 'Hello',
      mentions: 5,
    });
  });
});
