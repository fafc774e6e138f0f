import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { bearer } from '../support/tokens';

const HOUR = 3_600_000;

/** An ISO time without an offset ("2026-11-30T12:00:00"), as a client in any zone may send. */
const noOffset = (date: Date) => date.toISOString().slice(0, 19);

/**
 * Query times without an offset mean UTC (issue 10 item 4). `npm test` runs this file a
 * second time under TZ=Asia/Kolkata (npm run test:tz), where reading them in the process's
 * zone moved every window 5.5 hours and failed these tests.
 */
describe('query times are UTC', () => {
  let db: TestDatabase;
  let t: TestApp;
  const analyst = bearer(['analyst']);
  // Whole hours well in the past: nothing here depends on when the test runs.
  const base = new Date(Math.floor(Date.now() / HOUR) * HOUR - 10 * HOUR);
  const hours = [0, 1, 2, 3].map((h) => new Date(base.getTime() + h * HOUR));
  const mentionsAt = [5, 70, 300, 1100]; // distinct per hour: a shifted window shows

  beforeAll(async () => {
    db = await createTestDatabase('query_times');
    t = await startTestApp(db, { DB_MAX_CONNECTIONS: '2' });
    const res = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({
        observations: hours.map((h, i) => ({
          platform: 'tzcheck',
          trendKey: 'clock',
          observedAt: new Date(h.getTime() + 10 * 60_000).toISOString(),
          mentions: mentionsAt[i],
        })),
      });
    expect(res.status).toBe(201);
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('top?at= without an offset ends the window at that UTC time', async () => {
    const at = hours[2]; // the 1h window [hours[1], hours[2]) holds the 70 mentions
    const plain = await request(t.http)
      .get('/api/v1/trends/top')
      .query({ window: '1h', at: noOffset(at), platform: 'tzcheck' })
      .set(analyst);
    expect(plain.status).toBe(200);
    expect(plain.body.window).toEqual({
      from: hours[1].toISOString(),
      to: hours[2].toISOString(),
    });
    expect(plain.body.items).toEqual([
      expect.objectContaining({ trendKey: 'clock', mentions: 70, previousMentions: 5 }),
    ]);
    const zulu = await request(t.http)
      .get('/api/v1/trends/top')
      .query({ window: '1h', at: at.toISOString(), platform: 'tzcheck' })
      .set(analyst);
    expect(zulu.body).toEqual(plain.body);
  });

  it('overview?from=&to= without an offset covers those UTC times', async () => {
    const res = await request(t.http)
      .get('/api/v1/analytics/overview')
      .query({ from: noOffset(hours[1]), to: noOffset(hours[3]), platform: 'tzcheck' })
      .set(analyst);
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(hours[1].toISOString());
    expect(res.body.to).toBe(hours[3].toISOString());
    expect(res.body.totals.mentions).toBe(70 + 300);
  });

  it('series?from=&to= without an offset covers those UTC hours', async () => {
    const res = await request(t.http)
      .get('/api/v1/trends/clock/series')
      .query({
        interval: 'hour',
        from: noOffset(hours[0]),
        to: noOffset(new Date(hours[3].getTime() + HOUR)),
        platform: 'tzcheck',
      })
      .set(analyst);
    expect(res.status).toBe(200);
    expect(res.body.points.map((p: { mentions: number }) => p.mentions)).toEqual(mentionsAt);
    expect(res.body.from).toBe(hours[0].toISOString());
  });

  it.each([
    ['/api/v1/trends/top', { at: '9999-12-31T23:00:00Z' }, 'at'],
    ['/api/v1/trends/top', { at: '10000-01-01T00:00:00Z' }, 'at'],
    ['/api/v1/analytics/movers', { at: '9999-12-31T23:00:00' }, 'at'],
    ['/api/v1/analytics/overview', { from: '2026-11-01T00:00:00Z', to: '9999-01-01' }, 'to'],
    ['/api/v1/trends/clock/series', { from: '+010000-01-01T00:00:00Z' }, 'from'],
    ['/api/v1/analytics/platforms', { from: '2026-02-30T00:00:00' }, 'from'],
  ])('GET %s %j answers 400 naming %s', async (path, query, field) => {
    const res = await request(t.http).get(path).query(query).set(analyst);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field })]);
  });
});
