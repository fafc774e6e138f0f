import { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ALERT_TRANSITION, AlertTransitionEvent } from '../../src/alerts/alert-events';
import { emitAndWait } from '../../src/common/events';
import { StreamService } from '../../src/stream/stream.service';
import { TopPublisher } from '../../src/stream/top.publisher';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import { SHARED_REDIS, deletePrefix, testPrefix } from '../support/redis';
import { SseClient, SseEvent, idLess } from '../support/sse';
import { bearer, tokenFor } from '../support/tokens';

/**
 * The live stream (SPEC §13) on two app instances sharing one Redis (own key prefix) and one
 * database, with real HTTP clients: auth and tickets, cross-instance fan-out, the live top,
 * resume and reset, a slow client's bounded buffer, clean-up.
 */
describe('live stream (SSE)', () => {
  const CLIENT_BUFFER = 8;
  let db: TestDatabase;
  let redis: Redis;
  let prefix: string;
  let a: TestApp;
  let b: TestApp;
  let urlA: string;
  let urlB: string;
  const clients: SseClient[] = [];

  const open = async (base: string, query = '', headers: Record<string, string> = {}) => {
    const client = await SseClient.open(`${base}/api/v1/stream${query}`, headers);
    clients.push(client);
    return client;
  };
  const analyst = () => bearer(['analyst']);
  const ingest = async (base: string, observations: object[]) => {
    const response = await fetch(`${base}/api/v1/trends/observations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(['ingest']) },
      body: JSON.stringify({ observations }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { accepted: number; duplicates: number };
  };
  const json = (event: SseEvent) => JSON.parse(event.data) as Record<string, unknown>;
  const streamOf = (app: TestApp) => app.app.get(StreamService);
  const listen = async (app: TestApp) => {
    await app.app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.app.getHttpServer().address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  };

  beforeAll(async () => {
    db = await createTestDatabase('stream');
    prefix = testPrefix('stream');
    redis = new Redis({ host: '127.0.0.1', port: 6379 });
    const env = {
      ...SHARED_REDIS,
      REDIS_KEY_PREFIX: prefix,
      DB_MAX_CONNECTIONS: '3',
      STREAM_TOP_INTERVAL_S: '1',
      STREAM_RETENTION: '50',
      STREAM_CLIENT_BUFFER: String(CLIENT_BUFFER),
      THROTTLE_LIMIT: '10000',
    };
    a = await startTestApp(db, env);
    b = await startTestApp(db, env);
    urlA = await listen(a);
    urlB = await listen(b);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await db?.drop();
  });

  describe('authentication', () => {
    it('answers 401 without a token and 403 for the ingest role', async () => {
      const none = await open(urlA);
      expect(none.status).toBe(401);
      const ingestRole = await open(urlA, '', bearer(['ingest']));
      expect(ingestRole.status).toBe(403);
      expect((await ingestRole.json()).message).toMatch(/analyst or admin/);
      const badToken = await open(urlA, '', { authorization: 'Bearer not.a.jwt' });
      expect(badToken.status).toBe(401);
      const ticketForIngest = await fetch(`${urlA}/api/v1/stream/tickets`, {
        method: 'POST',
        headers: bearer(['ingest']),
      });
      expect(ticketForIngest.status).toBe(403);
    });

    it('accepts a ticket once, on any instance', async () => {
      const response = await fetch(`${urlA}/api/v1/stream/tickets`, {
        method: 'POST',
        headers: analyst(),
      });
      expect(response.status).toBe(201);
      const { ticket, expiresAt } = (await response.json()) as {
        ticket: string;
        expiresAt: string;
      };
      const ttl = new Date(expiresAt).getTime() - Date.now();
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);

      // issued on A, redeemed on B: tickets live in Redis
      const first = await open(urlB, `?ticket=${encodeURIComponent(ticket)}`);
      expect(first.status).toBe(200);
      expect(first.res.headers['content-type']).toMatch(/^text\/event-stream/);
      // the hijacked reply keeps the headers every answer gets (helmet, request id)
      expect(first.res.headers['x-content-type-options']).toBe('nosniff');
      expect(first.res.headers['x-request-id']).toBeTruthy();
      const second = await open(urlA, `?ticket=${encodeURIComponent(ticket)}`);
      expect(second.status).toBe(401);
      expect((await second.json()).message).toMatch(/ticket/);
      const forged = await open(urlA, `?ticket=${'x'.repeat(43)}`);
      expect(forged.status).toBe(401);
    });

    it('names the bad parameter', async () => {
      const topics = await open(urlA, '?topics=ingest,weather', analyst());
      expect(topics.status).toBe(400);
      expect(await topics.json()).toMatchObject({ errors: [{ field: 'topics' }] });
      const lastId = await open(urlA, '?lastEventId=yesterday', analyst());
      expect(lastId.status).toBe(400);
      expect(await lastId.json()).toMatchObject({ errors: [{ field: 'lastEventId' }] });
    });
  });

  it('delivers an ingest on instance A to a client on instance B, with accepted counts and increasing ids', async () => {
    const client = await open(urlB, '?topics=ingest', analyst());
    expect(client.status).toBe(200);
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const batches = [
      [
        { platform: 'twitter', trendKey: 'alpha', observedAt: at(5), mentions: 10 },
        { platform: 'twitter', trendKey: 'beta', observedAt: at(5), mentions: 20 },
        { platform: 'reddit', trendKey: 'alpha', observedAt: at(6), mentions: 5 },
      ],
      [
        { platform: 'reddit', trendKey: 'gamma', observedAt: at(7), mentions: 1 },
        { platform: 'reddit', trendKey: 'alpha', observedAt: at(6), mentions: 5 }, // duplicate
      ],
    ];
    const answers = [];
    for (const batch of batches) answers.push(await ingest(urlA, batch));
    expect(answers.map((r) => r.accepted)).toEqual([3, 1]);

    await client.until(() => client.ofType('ingest').length >= 2);
    const events = client.ofType('ingest').map(json);
    expect(events.map((e) => e.accepted)).toEqual([3, 1]);
    expect(events.map((e) => e.duplicates)).toEqual([0, 1]);
    expect(events[0].byPlatform).toEqual({ twitter: 2, reddit: 1 });
    expect(events[1].byPlatform).toEqual({ reddit: 1 });
    const today = new Date(Date.now() - 7 * 60_000).toISOString().slice(0, 10);
    expect(events[1].days).toEqual([today]);

    // an all-duplicate batch adds nothing to see: no event
    await ingest(urlA, batches[1]);
    await ingest(urlA, [{ platform: 'x', trendKey: 'marker', observedAt: at(1), mentions: 1 }]);
    await client.until(() => client.ofType('ingest').length >= 3);
    expect(json(client.ofType('ingest')[2]).byPlatform).toEqual({ x: 1 });

    const ids = client.events.filter((e) => e.id !== undefined).map((e) => e.id as string);
    expect(ids.length).toBe(3);
    for (let i = 1; i < ids.length; i++) expect(idLess(ids[i - 1], ids[i])).toBe(true);
  });

  it('sends the live 1h top 10 naming a spiking key, computed once per interval for the cluster', async () => {
    const onA = await open(urlA, '?topics=top', analyst());
    const onB = await open(urlB, '?topics=top', analyst());
    const spike = `spike-${Date.now()}`;
    await ingest(urlA, [
      {
        platform: 'twitter',
        trendKey: spike,
        observedAt: new Date(Date.now() - 30_000).toISOString(),
        mentions: 1_000_000,
      },
    ]);
    const leads = (c: SseClient) => () =>
      c
        .ofType('top')
        .some((e) => (json(e).items as Array<{ trendKey: string }>)[0]?.trendKey === spike);
    await onA.until(leads(onA));
    await onB.until(leads(onB));
    const top = json(
      onA
        .ofType('top')
        .find(
          (e) =>
            leads(onA) && (json(e).items as Array<{ trendKey: string }>)[0]?.trendKey === spike,
        ) as SseEvent,
    );
    const items = top.items as Array<{ trendKey: string; mentions: number; rank: number }>;
    expect(items.length).toBeLessThanOrEqual(10);
    expect(items[0]).toMatchObject({ rank: 1, trendKey: spike, mentions: 1_000_000 });

    // Both instances saw the same top events with the same ids (one log, one computation), and
    // an unchanged top is not sent again: consecutive top events differ.
    await new Promise((r) => setTimeout(r, 2500));
    const idsA = onA.ofType('top').map((e) => e.id);
    const idsB = onB.ofType('top').map((e) => e.id);
    const common = idsA.filter((id) => idsB.includes(id));
    expect(common.length).toBeGreaterThan(0);
    const datas = onA.ofType('top').map((e) => e.data);
    for (let i = 1; i < datas.length; i++) expect(datas[i]).not.toBe(datas[i - 1]);

    // the interval claim is cluster-wide: one instance wins it
    const claims = await Promise.all([
      streamOf(a).bus.claim('top:probe', 5000),
      streamOf(b).bus.claim('top:probe', 5000),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);

    // a new dashboard starts with the latest top, under its original id
    const latest = onB.ofType('top')[onB.ofType('top').length - 1];
    const late = await open(urlB, '?topics=top', analyst());
    await late.until(() => late.events.length >= 1);
    expect(late.events[0]).toEqual(latest);
  });

  it('an alert transition on one instance reaches clients of the other as an alert event', async () => {
    const client = await open(urlB, '?topics=alerts', analyst());
    const transition: AlertTransitionEvent = {
      ruleId: '00000000-0000-4000-8000-000000000001',
      ruleName: 'Any trend spiking',
      severity: 'warning',
      state: 'firing',
      previousState: 'normal',
      trendKey: 'world cup',
      platform: null,
      region: null,
      value: 1234,
      threshold: 1000,
      since: '2026-11-30T12:00:00.000Z',
      at: '2026-11-30T12:00:00.000Z',
    };
    await emitAndWait(a.app.get(EventEmitter2), ALERT_TRANSITION, transition);
    await client.until(() => client.ofType('alert').length === 1);
    expect(json(client.ofType('alert')[0])).toEqual(transition);
  });

  it('replays exactly the missed events in order after a disconnect (header or query)', async () => {
    const first = await open(urlA, '?topics=alerts,ingest', analyst());
    const before = await streamOf(a).publish('alert', { n: 0 });
    await first.until(() => first.ofType('alert').length === 1);
    const lastSeen = first.ofType('alert')[0].id as string;
    expect(lastSeen).toBe(before);
    first.close();

    const missed: string[] = [];
    for (let n = 1; n <= 5; n++) {
      missed.push((await streamOf(n % 2 ? a : b).publish('alert', { n })) as string);
      await streamOf(b).publish('top', { ignored: n }); // not subscribed: must not be replayed
    }
    const viaHeader = await open(urlB, '?topics=alerts,ingest', {
      ...analyst(),
      'last-event-id': lastSeen,
    });
    await viaHeader.until(() => viaHeader.ofType('alert').length === 5);
    expect(viaHeader.events.map((e) => e.id)).toEqual(missed);
    expect(viaHeader.ofType('alert').map((e) => json(e).n)).toEqual([1, 2, 3, 4, 5]);
    expect(viaHeader.ofType('top')).toEqual([]);

    const viaQuery = await open(urlA, `?topics=alerts&lastEventId=${missed[2]}`, analyst());
    await viaQuery.until(() => viaQuery.ofType('alert').length === 2);
    expect(viaQuery.events.map((e) => e.id)).toEqual(missed.slice(3));

    // and live events follow the replay without a gap or a repeat
    const live = await streamOf(a).publish('alert', { n: 6 });
    await viaQuery.until(() => viaQuery.ofType('alert').length === 3);
    expect(viaQuery.events.map((e) => e.id)).toEqual([...missed.slice(3), live]);
  });

  it('sends reset when the id is older than retention, unknown or malformed', async () => {
    const old = (await streamOf(a).publish('alert', { old: true })) as string;
    for (let i = 0; i < 400; i++) await streamOf(a).publish('ingest', { filler: i });
    const tail = (await streamOf(a).publish('ingest', { filler: 'last' })) as string;
    // B's reader has fanned out everything up to the tail (else those events follow the reset live)
    for (let i = 0; i < 100 && streamOf(b).bus.lastDeliveredId !== tail; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(streamOf(b).bus.lastDeliveredId).toBe(tail);

    for (const lastId of [old, '99999999999999-0']) {
      const client = await open(urlB, `?topics=alerts&lastEventId=${lastId}`, analyst());
      await client.until(() => client.events.length >= 1);
      expect(client.events[0].event).toBe('reset');
      // The reset's id is where live delivery starts (the live top may have moved it on).
      const resetId = client.events[0].id as string;
      expect(idLess(resetId, tail)).toBe(false);
      const next = await streamOf(a).publish('alert', { after: lastId });
      await client.until(() => client.ofType('alert').length === 1);
      expect(client.events.map((e) => e.event)).toEqual(['reset', 'alert']);
      expect(client.events[1].id).toBe(next);
      expect(idLess(resetId, next as string)).toBe(true);
    }
    const garbage = await open(urlA, '', { ...analyst(), 'last-event-id': 'not-an-id' });
    await garbage.until(() => garbage.events.length >= 1);
    expect(garbage.events[0].event).toBe('reset');
  });

  it('bounds the buffer of a client that does not read, drops oldest ingest/top (counted), never alerts', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const slow = await open(urlA, '?topics=alerts,ingest', analyst());
    expect(slow.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    slow.pause();
    const stream = streamOf(a);
    expect(stream.connectionStats()).toHaveLength(1);

    const pad = 'p'.repeat(4096);
    const ingestIds: string[] = [];
    const alertIds: string[] = [];
    let maxQueued = 0;
    let maxSocketBytes = 0;
    for (let i = 0; i < 1500; i++) {
      ingestIds.push((await stream.publish('ingest', { i, pad })) as string);
      if (i % 75 === 0) alertIds.push((await stream.publish('alert', { i })) as string);
      if (i % 50 === 0) {
        const [stats] = stream.connectionStats();
        maxQueued = Math.max(maxQueued, stats.queued);
        maxSocketBytes = Math.max(maxSocketBytes, stats.socketBytes);
      }
    }
    const lastId = ingestIds[ingestIds.length - 1];
    // wait until this replica's reader has fanned out the last event
    for (let i = 0; i < 100 && stream.bus.lastDeliveredId !== lastId; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const [stats] = stream.connectionStats();
    maxQueued = Math.max(maxQueued, stats.queued);
    expect(stats.dropped).toBeGreaterThan(0);
    // bounded: at most CLIENT_BUFFER queued events (+ alerts, which are never dropped) and
    // Node's own write buffer (16 KiB high-water mark + one frame)
    expect(maxQueued).toBeLessThanOrEqual(CLIENT_BUFFER + alertIds.length);
    expect(maxSocketBytes).toBeLessThanOrEqual(16 * 1024 + 4200);

    slow.resume();
    await slow.until(() => slow.events.some((e) => e.id === lastId), 30_000);
    const receivedIngest = slow.ofType('ingest').length;
    expect(receivedIngest + stats.dropped).toBe(ingestIds.length);
    expect(slow.ofType('alert').map((e) => e.id)).toEqual(alertIds);
    // what arrived is in order
    const ids = slow.events.map((e) => e.id as string);
    for (let i = 1; i < ids.length; i++) expect(idLess(ids[i - 1], ids[i])).toBe(true);

    const metrics = await (await fetch(`${urlA}/metrics`)).text();
    const dropped = /^stream_events_dropped_total\{type="ingest"\} (\d+)/m.exec(metrics);
    expect(Number(dropped?.[1])).toBe(stats.dropped);
  });

  it('documents both operations in OpenAPI', async () => {
    const doc = (await (await fetch(`${urlA}/api/docs-json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: object }> }>>;
    };
    expect(Object.keys(doc.paths['/api/v1/stream'].get.responses['200'].content ?? {})).toEqual([
      'text/event-stream',
    ]);
    expect(doc.paths['/api/v1/stream/tickets'].post.responses['201']).toBeDefined();
  });

  it('works in one process without Redis (tickets, fan-out, replay)', async () => {
    const solo = await startTestApp(db, { DB_MAX_CONNECTIONS: '2', STREAM_TOP_INTERVAL_S: '3600' });
    try {
      const url = await listen(solo);
      // the live top is computed only while someone watches it
      const top = solo.app.get(TopPublisher);
      expect(await top.tick()).toBeNull();
      const watcher = await open(url, '?topics=top', analyst());
      const id = await top.tick();
      expect(id).not.toBeNull();
      await watcher.until(() => watcher.ofType('top').length === 1);
      expect(watcher.ofType('top')[0].id).toBe(id);
      expect(await top.tick()).toBeNull(); // same interval (claimed) or unchanged: nothing sent
      const { ticket } = (await (
        await fetch(`${url}/api/v1/stream/tickets`, { method: 'POST', headers: analyst() })
      ).json()) as { ticket: string };
      const client = await open(url, `?topics=ingest&ticket=${ticket}`);
      expect(client.status).toBe(200);
      expect((await open(url, `?ticket=${ticket}`)).status).toBe(401);
      const at = new Date(Date.now() - 60_000).toISOString();
      await ingest(url, [{ platform: 'solo', trendKey: 'one', observedAt: at, mentions: 1 }]);
      await client.until(() => client.ofType('ingest').length === 1);
      const first = client.ofType('ingest')[0].id as string;
      client.close();
      await ingest(url, [{ platform: 'solo', trendKey: 'two', observedAt: at, mentions: 1 }]);
      const resumed = await open(url, '?topics=ingest', { ...analyst(), 'last-event-id': first });
      await resumed.until(() => resumed.ofType('ingest').length === 1);
      expect(json(resumed.ofType('ingest')[0]).byPlatform).toEqual({ solo: 1 });
      expect(idLess(first, resumed.ofType('ingest')[0].id as string)).toBe(true);
    } finally {
      for (const c of clients.splice(0)) c.close();
      await solo.close();
    }
  });

  it('reports connections in metrics and forgets them when clients leave', async () => {
    const c1 = await open(urlA, '', analyst());
    const c2 = await open(urlA, '?topics=top', { authorization: `Bearer ${tokenFor(['admin'])}` });
    expect([c1.status, c2.status]).toEqual([200, 200]);
    const gauge = async () =>
      Number(
        /^stream_connections_current (\d+)/m.exec(
          await (await fetch(`${urlA}/metrics`)).text(),
        )?.[1],
      );
    expect(await gauge()).toBe(2);
    c1.close();
    c2.close();
    for (let i = 0; i < 100 && streamOf(a).connectionCount > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(streamOf(a).connectionCount).toBe(0);
    expect(await gauge()).toBe(0);
    const metrics = await (await fetch(`${urlA}/metrics`)).text();
    expect(metrics).toMatch(/^stream_events_total\{type="alert"\} \d+/m);
  });
});
