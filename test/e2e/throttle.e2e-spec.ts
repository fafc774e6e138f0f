import Redis from 'ioredis';
import request from 'supertest';
import { TestApp } from '../support/app';
import { Replicas, startReplicas, stopReplicas } from '../support/replicas';
import { tokenFor } from '../support/tokens';
import { testPrefix } from '../support/redis';

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('rate limiting on a shared Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  let replicas: Replicas | undefined;
  const prefix = testPrefix('throttle');

  beforeAll(async () => {
    const env = { THROTTLE_TTL: '60', THROTTLE_LIMIT: '5', THROTTLE_INGEST_LIMIT: '8' };
    replicas = await startReplicas('throttle', prefix, env, { DB_MIGRATIONS_RUN: 'false' });
    ({ a, b, redis } = replicas);
  });
  afterAll(() => stopReplicas(replicas));

  it('answers 429 with Retry-After past the limit, per token subject', async () => {
    const token = tokenFor(['analyst'], 'burst-user');
    const statuses: number[] = [];
    let limited: request.Response | undefined;
    for (let i = 0; i < 7; i++) {
      const res = await request(a.http).get('/api/v1/trends/top').set(auth(token));
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const retryAfter = Number(limited?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited?.body.statusCode).toBe(429);
    // Another subject has its own budget.
    const other = await request(a.http)
      .get('/api/v1/trends/top')
      .set(auth(tokenFor(['analyst'], 'someone-else')));
    expect(other.status).toBe(200);
  });

  it('shares one limit between two app instances', async () => {
    const token = tokenFor(['analyst'], 'two-replicas');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await request(a.http).get('/api/v1/trends/top').set(auth(token))).status);
      statuses.push((await request(b.http).get('/api/v1/trends/top').set(auth(token))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const [, keys] = await redis.scan('0', 'MATCH', `${prefix}{v}:throttle:*`, 'COUNT', 1000);
    expect(keys.length).toBeGreaterThan(0);
  });

  it('gives role ingest the higher limit and never limits health probes', async () => {
    const token = tokenFor(['ingest'], 'collector');
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      const res = await request(a.http)
        .post('/api/v1/trends/observations')
        .set(auth(token))
        .send({
          observations: [
            { platform: 'x', trendKey: `k${i}`, observedAt: new Date().toISOString(), mentions: 1 },
          ],
        });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 201, 201, 201, 429]);
    for (let i = 0; i < 12; i++) {
      expect((await request(a.http).get('/health/live')).status).toBe(200);
      expect((await request(a.http).get('/health/ready')).status).toBe(200);
    }
  });

  it('never limits the API docs', async () => {
    for (let i = 0; i < 8; i++)
      expect((await request(a.http).get('/api/docs-json')).status).toBe(200);
  });
});
