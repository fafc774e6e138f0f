import { AddressInfo } from 'node:net';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { ThrowawayRedis, freePort } from '../support/redis';
import { SseClient } from '../support/sse';
import { bearer } from '../support/tokens';

/**
 * The live stream while its Redis goes away and comes back (a throwaway redis-server killed by
 * PID): open streams stay up with heartbeats, ingest still answers 201, tickets answer 503, and
 * after Redis returns clients get `reset` and then live events again.
 */
describe('live stream with Redis down', () => {
  let db: TestDatabase;
  let redis: ThrowawayRedis;
  let app: TestApp;
  let url: string;
  const clients: SseClient[] = [];

  const ingest = async (key: string) => {
    const response = await fetch(`${url}/api/v1/trends/observations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(['ingest']) },
      body: JSON.stringify({
        observations: [
          {
            platform: 'twitter',
            trendKey: key,
            observedAt: new Date(Date.now() - 60_000).toISOString(),
            mentions: 3,
          },
        ],
      }),
    });
    return response.status;
  };
  const ingestEvents = (c: SseClient) => c.ofType('ingest').length;

  beforeAll(async () => {
    db = await createTestDatabase('stream_redis_down');
    redis = new ThrowawayRedis(await freePort());
    await redis.start();
    app = await startTestApp(db, {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redis.port),
      DB_MAX_CONNECTIONS: '2',
      STREAM_HEARTBEAT_S: '1',
      STREAM_TOP_INTERVAL_S: '3600',
    });
    await app.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await app?.close();
    await redis?.stop();
    await db?.drop();
  });

  it('keeps streams open, serves ingest, refuses tickets, and resets clients when Redis returns', async () => {
    const client = await SseClient.open(`${url}/api/v1/stream?topics=ingest`, bearer(['analyst']));
    clients.push(client);
    expect(client.status).toBe(200);
    expect(await ingest('before')).toBe(201);
    await client.until(() => ingestEvents(client) === 1);

    await redis.stop();
    expect(await ingest('during')).toBe(201);
    const heartbeats = client.ofType('heartbeat').length;
    await client.until(() => client.ofType('heartbeat').length >= heartbeats + 2, 10_000);
    expect(client.ended).toBe(false);
    expect(ingestEvents(client)).toBe(1); // the event of the batch during the outage was lost
    const ticket = await fetch(`${url}/api/v1/stream/tickets`, {
      method: 'POST',
      headers: bearer(['analyst']),
    });
    expect(ticket.status).toBe(503);
    const resumed = await SseClient.open(
      `${url}/api/v1/stream?lastEventId=1-0`,
      bearer(['analyst']),
    );
    clients.push(resumed);
    await resumed.until(() => resumed.events.length > 0);
    expect(resumed.events[0].event).toBe('reset'); // replay impossible: refetch
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^errors_total\{service="stream",type="publish"\} [1-9]/m);

    await redis.start();
    await client.until(() => client.ofType('reset').length === 1, 15_000);
    expect(await ingest('after')).toBe(201);
    await client.until(() => ingestEvents(client) === 2, 15_000);
    const withIds = client.events.filter((e) => e.id).map((e) => e.event);
    expect(withIds).toEqual(['ingest', 'reset', 'ingest']);
  });
});
